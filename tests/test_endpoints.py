"""The TLS endpoint, the OCSP responder and the sink's forwarding, as real servers."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from alertdrill.backends.certs import CA_FILE, issue_leaf, leaf_expiry, make_authority
from alertdrill.sink.forward import ForwardTable
from alertdrill.sink.protocol import Destination
from alertdrill.sink.server import SinkHTTPServer, Store
from alertdrill.targets import ocsp, tls
from tests.helpers import RecordingServer, listening_socket


def _serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return thread



def _served_expiry(port: int, ca_file: Path) -> datetime:
    context = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="cartorio-tls") as conn:
        der = conn.getpeercert(binary_form=True)
    from cryptography import x509

    assert der is not None
    return x509.load_der_x509_certificate(der).not_valid_after_utc


def test_tls_endpoint_serves_the_certificate_it_was_last_given(tmp_path: Path) -> None:
    ca = make_authority()
    ca.write(tmp_path)
    certs = tmp_path / "certs"
    issue_leaf(ca, ["cartorio-tls", "127.0.0.1"], 90, certs)
    server = tls.TLSServer(listening_socket(), tls.CertificateStore(certs))
    _serve(server)
    try:
        port = server.server_address[1]
        first = _served_expiry(port, tmp_path / CA_FILE)
        assert abs(first - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=1)
        time.sleep(0.01)  # a new mtime
        expires = issue_leaf(ca, ["cartorio-tls", "127.0.0.1"], 10, certs)
        assert leaf_expiry(certs) == expires.replace(microsecond=0)
        assert _served_expiry(port, tmp_path / CA_FILE) == expires.replace(microsecond=0)
        # A client that does not trust the stack's CA is refused: verification is real.
        with pytest.raises(ssl.SSLCertVerificationError), \
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            ssl.create_default_context().wrap_socket(raw, server_hostname="cartorio-tls")
    finally:
        server.shutdown()
        server.server_close()


def test_ocsp_responder_latency_is_real_and_controlled() -> None:
    server = ocsp._Server(listening_socket())
    _serve(server)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        started = time.monotonic()
        assert requests.get(url + "/ocsp", timeout=5).status_code == 200
        assert time.monotonic() - started < 0.5
        assert requests.post(url + "/-/control", json={"latency": 0.6}, timeout=5).json()[
            "latency"] == 0.6
        started = time.monotonic()
        requests.get(url + "/ocsp", timeout=5)
        assert time.monotonic() - started >= 0.6
        bad = requests.post(url + "/-/control", json={"latencyy": 1}, timeout=5)
        assert bad.status_code == 400 and "unknown settings" in bad.json()["error"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def forwarding(tmp_path: Path) -> Iterator[tuple[str, Any, Store, Path]]:
    # A stack service behind the sink: records bodies, answers the status it is told.
    service: Any = RecordingServer(lambda server, path, body: (server.status, {"ok": True}))
    service.status = 200
    table = tmp_path / "forwards.json"
    store = Store()
    sink = SinkHTTPServer(listening_socket(), store, ForwardTable(table))
    _serve(sink)
    yield f"http://127.0.0.1:{sink.server_address[1]}", service, store, table
    sink.shutdown()
    sink.server_close()
    service.close()


def test_sink_records_and_forwards_to_stack_services(forwarding: tuple[str, Any, Store, Path]) -> None:
    sink_url, service, store, table = forwarding
    dest = Destination(2, "dev-critical", "webhook", 1)
    payload = {"status": "firing", "alerts": [{"labels": {"alertname": "A"}, "status": "firing"}]}
    # No table yet: recorded and answered by the sink alone.
    assert requests.post(sink_url + dest.http_path(), json=payload, timeout=5).status_code == 200
    assert service.bodies == []
    table.write_text(json.dumps({"dev-critical/webhook/1":
                                 f"http://127.0.0.1:{service.server_address[1]}/webhook"}))
    assert requests.post(sink_url + dest.http_path(), json=payload, timeout=5).status_code == 200
    assert service.bodies == [("/webhook", payload)]
    service.status = 503  # the service fails: Alertmanager must see it, to retry
    answer = requests.post(sink_url + dest.http_path(), json=payload, timeout=5)
    assert answer.status_code == 503
    assert [d.response_code for d in store.after(0)] == [200, 200, 503]
    # Another integration of the receiver is not forwarded.
    other = Destination(0, "dev-critical", "webhook", 0)
    requests.post(sink_url + other.http_path(), json=payload, timeout=5)
    assert len(service.bodies) == 2


def test_unreachable_forward_target_is_a_502(forwarding: tuple[str, Any, Store, Path]) -> None:
    sink_url, _, store, table = forwarding
    closed = listening_socket()
    port = closed.getsockname()[1]
    closed.close()
    table.write_text(json.dumps({"r/webhook/0": f"http://127.0.0.1:{port}/webhook"}))
    answer = requests.post(sink_url + Destination(0, "r", "webhook", 0).http_path(),
                           json={"alerts": []}, timeout=10)
    assert answer.status_code == 502
    assert store.after(0)[-1].response_code == 502
