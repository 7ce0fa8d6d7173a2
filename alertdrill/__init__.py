"""alertdrill: prove, against real Prometheus and Alertmanager processes, that alerting works."""

from __future__ import annotations

__version__ = "0.1.0"
