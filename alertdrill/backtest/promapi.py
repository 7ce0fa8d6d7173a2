"""The HTTP client ``record`` (and ``backtest``'s evaluation) use to read a Prometheus API.

What a user expects of a client pointed at a production Prometheus: basic or bearer auth, TLS
with a CA file (or a client certificate), a timeout per request and retries with exponential
backoff (tenacity) on connection errors, timeouts, 429 and 5xx — never on a 4xx, which a retry
cannot fix (a bad query, a missing permission) and which is raised at once with Prometheus's
own error text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from alertdrill.errors import ConfigError


@dataclass(frozen=True)
class HttpOptions:
    """How to reach the Prometheus API."""

    username: str | None = None
    password: str | None = None
    bearer_token: str | None = None
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    insecure: bool = False
    timeout: float = 30.0
    retries: int = 5
    backoff: float = 0.5


class _Retryable(Exception):
    """A failure a retry may fix."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, (_Retryable, requests.ConnectionError, requests.Timeout))


class PrometheusReader:
    """GET requests against one Prometheus's /api/v1, with auth, TLS and retries."""

    def __init__(self, base_url: str, options: HttpOptions | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.options = options or HttpOptions()
        opts = self.options
        if opts.bearer_token and opts.username:
            raise ConfigError("both basic auth and a bearer token given", "give one of them")
        self.session = requests.Session()
        if opts.username:
            self.session.auth = (opts.username, opts.password or "")
        if opts.bearer_token:
            self.session.headers["Authorization"] = f"Bearer {opts.bearer_token}"
        self.session.verify = False if opts.insecure else (opts.ca_file or True)
        if opts.client_cert:
            self.session.cert = ((opts.client_cert, opts.client_key) if opts.client_key
                                 else opts.client_cert)
        #: Requests made, retries included (for the progress line and tests).
        self.requests = 0

    def get(self, path: str, params: dict[str, Any]) -> Any:
        """The ``data`` of a successful API answer; retried on transient failures."""
        url = self.base_url + path
        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.options.retries)),
            wait=wait_exponential(multiplier=self.options.backoff, max=30),
            retry=retry_if_exception(_retryable), reraise=True)
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(url, params)
        except (_Retryable, requests.RequestException) as exc:
            raise ConfigError(f"Prometheus at {url} did not answer after "
                              f"{self.options.retries} attempts: {exc}",
                              "check --prometheus, the network and the TLS/auth options") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, url: str, params: dict[str, Any]) -> Any:
        self.requests += 1
        response = self.session.get(url, params=params, timeout=self.options.timeout)
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError:
            raise ConfigError(f"{url} answered HTTP {response.status_code} with non-JSON: "
                              f"{response.text[:200]!r}", "is --prometheus a Prometheus?") from None
        if response.status_code != 200 or body.get("status") != "success":
            raise ConfigError(f"Prometheus refused {url} ({response.status_code}): "
                              f"{body.get('errorType', '')} {body.get('error', '')}".rstrip(),
                              "check the query and the credentials")
        return body["data"]

    def query_range(self, query: str, start: float, end: float, step: float
                    ) -> list[dict[str, Any]]:
        """A range query's matrix: ``[{"metric": {...}, "values": [[t, "v"], …]}, …]``."""
        data = self.get("/api/v1/query_range",
                        {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}",
                         "step": f"{step:.3f}"})
        if data.get("resultType") != "matrix":
            raise ConfigError(f"query_range of {query!r} gave a {data.get('resultType')}")
        return list(data["result"])
