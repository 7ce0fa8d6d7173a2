"""The harness's side of the sink: read deliveries, reset, break and heal receivers."""

from __future__ import annotations

from typing import Any

import requests

from alertdrill.sink.records import Delivery


class SinkError(Exception):
    """The sink did not answer; the message names its URL."""


class SinkClient:
    """HTTP client of the sink's control API."""

    def __init__(self, base_url: str, timeout: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.session.request(method, self.base_url + path, timeout=self.timeout,
                                            **kwargs)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as exc:
            raise SinkError(f"sink at {self.base_url} failed on {method} {path}: {exc}") from exc

    def health(self) -> bool:
        """True when the sink answers."""
        try:
            return bool(self._call("GET", "/_health").get("ok"))
        except SinkError:
            return False

    def deliveries(self, after: int = 0) -> list[Delivery]:
        """Deliveries with sequence number above ``after``, in arrival order."""
        data = self._call("GET", "/_deliveries", params={"after": after})
        return [Delivery.from_json(d) for d in data["deliveries"]]

    def reset(self) -> None:
        """Forget deliveries and faults."""
        self._call("POST", "/_reset")

    def add_fault(self, receiver: str | None, integration: str | None, mode: str,
                  status: int = 500, seconds: float = 0.0) -> str:
        """Make matching deliveries fail; returns the fault id for :meth:`heal`."""
        spec = {"receiver": receiver, "integration": integration, "mode": mode,
                "status": status, "seconds": seconds}
        return str(self._call("POST", "/_faults", json=spec)["id"])

    def heal(self, fault_id: str | None = None) -> None:
        """Remove one fault, or all."""
        self._call("DELETE", f"/_faults/{fault_id}" if fault_id else "/_faults")

    def faults(self) -> list[dict[str, Any]]:
        """Active faults."""
        return list(self._call("GET", "/_faults")["faults"])
