"""The notification sink (a separate process) and the client the harness reads it with."""

from __future__ import annotations

from alertdrill.sink.client import SinkClient, SinkError
from alertdrill.sink.records import Delivery, NotifiedAlert

__all__ = ["Delivery", "NotifiedAlert", "SinkClient", "SinkError"]
