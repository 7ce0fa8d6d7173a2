"""The harness's side of the sink: read deliveries, reset, break and heal receivers."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import requests

from alertdrill.sink.records import Delivery

logger = logging.getLogger(__name__)


class SinkError(Exception):
    """The sink could not be reached or refused a request; the message names the URL."""


class SinkClient:
    """HTTP client of the sink's control API (one keep-alive session)."""

    def __init__(self, base_url: str, timeout: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def __repr__(self) -> str:
        return f"SinkClient({self.base_url!r})"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.base_url + path
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise SinkError(f"sink at {url} did not answer {method}: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if not response.ok:
            reason = data.get("error") if isinstance(data, dict) else response.text[:200]
            raise SinkError(f"sink at {url} refused {method} with {response.status_code}: {reason}")
        if not isinstance(data, dict):
            raise SinkError(f"sink at {url} answered {method} with non-JSON: {response.text[:200]!r}")
        return data

    def health(self) -> bool:
        """True when the sink answers its health check (never raises)."""
        try:
            return self._call("GET", "/_health").get("ok") is True
        except SinkError as exc:
            logger.debug("%s", exc)
            return False

    def deliveries(self, after: int = 0) -> list[Delivery]:
        """Deliveries with sequence number above ``after``, in arrival order."""
        data = self._call("GET", "/_deliveries", params={"after": after})
        return [Delivery.from_json(d) for d in data["deliveries"]]

    def reset(self) -> None:
        """Forget deliveries and faults (sequence numbers keep increasing)."""
        self._call("POST", "/_reset")

    def add_fault(self, receiver: str | None, integration: str | None, mode: str,
                  status: int = 500, seconds: float = 0.0, index: int | None = None) -> str:
        """Make matching deliveries fail (``status``, ``delay`` or ``drop``); returns the fault id.

        ``index`` restricts it to one integration of its kind (``webhook[1]``)."""
        spec: dict[str, object] = {"receiver": receiver, "integration": integration, "mode": mode,
                                   "status": status, "seconds": seconds}
        if index is not None:
            spec["index"] = index
        return str(self._call("POST", "/_faults", json=spec)["id"])

    def heal(self, fault_id: str | None = None) -> None:
        """Remove one fault, or all of them when ``fault_id`` is None."""
        path = "/_faults" if fault_id is None else f"/_faults/{quote(fault_id, safe='')}"
        self._call("DELETE", path)

    def faults(self) -> list[dict[str, Any]]:
        """Active faults as the sink lists them (id, receiver, integration, mode, status, seconds)."""
        return list(self._call("GET", "/_faults")["faults"])

    def close(self) -> None:
        """Release the session's pooled connections."""
        self.session.close()
