"""The external backend's Kubernetes actions, through the official client, against a small fake
API server (no Kubernetes cluster is available here): scale to 0 and back, delete the pods, an
isolating NetworkPolicy and its removal — each request as the client really sends it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from alertdrill.backends.external import CommandRun, ExternalService
from alertdrill.backends.external_config import load_external
from alertdrill.backends.external_k8s import POLICY_PREFIX
from alertdrill.errors import ConfigError, StepError

pytest.importorskip("kubernetes")

NS, NAME = "staging", "web"
BASE = f"/apis/apps/v1/namespaces/{NS}/deployments/{NAME}"


class FakeCluster:
    """One Deployment with two pods, and the NetworkPolicies made against it."""

    def __init__(self) -> None:
        self.replicas = 2
        self.pods = ["web-a", "web-b"]
        self.policies: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, str]] = []  # method, path, Authorization

    def handle(self, method: str, path: str, query: dict[str, list[str]],
               body: Any) -> tuple[int, dict[str, Any]]:
        meta = {"name": NAME, "namespace": NS}
        if path == BASE + "/scale":
            if method == "PATCH":
                self.replicas = int(body["spec"]["replicas"])
            return 200, {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": meta,
                         "spec": {"replicas": self.replicas}, "status": {"replicas": self.replicas}}
        if path == BASE and method == "GET":
            return 200, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                         "spec": {"replicas": self.replicas,
                                  "selector": {"matchLabels": {"app": "web"}},
                                  "template": {"metadata": {"labels": {"app": "web"}},
                                               "spec": {"containers": [{"name": "web",
                                                                        "image": "web:1"}]}}},
                         "status": {"replicas": self.replicas, "readyReplicas": self.replicas}}
        if path == f"/api/v1/namespaces/{NS}/pods" and method == "GET":
            assert query.get("labelSelector") == ["app=web"]
            return 200, {"apiVersion": "v1", "kind": "PodList", "metadata": {},
                         "items": [{"metadata": {"name": p, "labels": {"app": "web"}}}
                                   for p in self.pods]}
        if path.startswith(f"/api/v1/namespaces/{NS}/pods/") and method == "DELETE":
            name = path.rsplit("/", 1)[1]
            self.pods.remove(name)
            return 200, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}}
        policies = f"/apis/networking.k8s.io/v1/namespaces/{NS}/networkpolicies"
        if path == policies and method == "POST":
            self.policies[body["metadata"]["name"]] = body
            return 201, body
        if path.startswith(policies + "/") and method == "DELETE":
            name = path.rsplit("/", 1)[1]
            if name not in self.policies:
                return 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "reason": "NotFound", "code": 404}
            del self.policies[name]
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
        return 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeCluster, Path]]:
    state = FakeCluster()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            state.requests.append((self.command, url.path, self.headers.get("Authorization", "")))
            code, answer = state.handle(self.command, url.path, parse_qs(url.query), body)
            data = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = do_POST = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (tmp_path / "kubeconfig").write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": "drill", "user": {"token": "k8s-token-123"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "drill"}}]}))
    try:
        yield state, tmp_path
    finally:
        server.shutdown()
        server.server_close()


def _service(base: Path) -> tuple[ExternalService, list[CommandRun]]:
    config = load_external({"prometheus": "http://p:9090", "alertmanagers": ["http://a:9093"],
                            "services": {"web": {"kubernetes": {
                                "namespace": NS, "deployment": NAME,
                                "kubeconfig": "kubeconfig"}}}}, base)
    runs: list[CommandRun] = []
    return ExternalService("web", actions=config.services["web"], record=runs.append), runs


def test_stop_scales_to_zero_and_start_gives_the_replicas_back(
        cluster: tuple[FakeCluster, Path]) -> None:
    state, base = cluster
    web, runs = _service(base)
    web.stop()
    assert state.replicas == 0 and not web.running()
    web.start()
    assert state.replicas == 2 and web.is_ready(None)  # type: ignore[arg-type]
    assert [(r.action, r.exit_code) for r in runs] == [("stop", 0), ("start", 0)]
    assert runs[0].output == "scaled deployment staging/web from 2 to 0 replicas"
    assert runs[1].output == "scaled deployment staging/web from 0 back to 2 replicas"
    assert runs[0].command == "kubernetes stop deployment staging/web" and "@" in runs[0].by
    assert {auth for _, _, auth in state.requests} == {"Bearer k8s-token-123"}
    assert ("PATCH", BASE + "/scale") in {(m, p) for m, p, _ in state.requests}


def test_kill_deletes_the_pods_and_pause_isolates_them_until_resumed(
        cluster: tuple[FakeCluster, Path]) -> None:
    state, base = cluster
    web, runs = _service(base)
    web.kill()
    assert state.pods == []
    assert runs[-1].output.endswith("(app=web): web-a, web-b")
    web.pause()
    policy = state.policies[POLICY_PREFIX + NAME]
    assert policy["spec"] == {"podSelector": {"matchLabels": {"app": "web"}},
                              "policyTypes": ["Ingress", "Egress"]}, "no rule: nothing in or out"
    web.resume()
    assert state.policies == {}
    # A resume with nothing to delete is the API's 404: the step fails, saying so.
    with pytest.raises(StepError, match="resume of \"web\" failed"):
        web.resume()
    assert runs[-1].exit_code == 1 and "kubernetes resume of deployment staging/web failed: 404" \
        in runs[-1].output


def test_a_kubernetes_service_declares_every_action_and_no_commands(tmp_path: Path) -> None:
    (tmp_path / "kubeconfig").write_text("{}")
    raw = {"prometheus": "http://p:9090", "alertmanagers": ["http://a:9093"],
           "services": {"web": {"kubernetes": {"deployment": "web", "kubeconfig": "kubeconfig"}}}}
    config = load_external(raw, tmp_path)
    assert config.services["web"].declared() == ["stop", "kill", "pause", "start", "resume"]
    assert config.services["web"].kubernetes is not None
    assert config.services["web"].kubernetes.namespace == "default"
    for service, error in [
        ({"kubernetes": {"deployment": "a", "statefulset": "b"}}, "exactly one"),
        ({"kubernetes": {"deployment": "a"}, "stop": "x", "start": "y"}, "both given"),
        ({"kubernetes": {"deployment": "a", "kubeconfig": "nowhere"}}, "no file"),
        ({"kubernetes": {"deployment": "a", "replicas": 3}}, "unknown key"),
    ]:
        with pytest.raises(ConfigError, match=error):
            load_external({**raw, "services": {"web": service}}, tmp_path)
