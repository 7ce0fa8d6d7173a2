"""The time model: feature files speak real-world durations; the stack may run faster.

A run at scale K executes every configured duration divided by K, so an SLA of "2 minutes" is
checked as 120/K seconds of measured time plus a tolerance (which is *not* scaled: it absorbs
process and polling jitter, which does not shrink with K).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimeScale:
    """Converts between real-world durations (steps, SLAs) and measured ones (the run)."""

    factor: float = 1.0

    def __post_init__(self) -> None:
        if self.factor <= 0:
            raise ValueError(f"time scale must be positive, not {self.factor}")

    def measured(self, real_seconds: float) -> float:
        """How long ``real_seconds`` of the modelled world lasts in this run."""
        return real_seconds / self.factor

    def real(self, measured_seconds: float) -> float:
        """The real-world equivalent of a measured duration, for reports."""
        return measured_seconds * self.factor
