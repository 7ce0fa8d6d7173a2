"""Kubernetes actions of the external backend, through the official Python client.

A service of a staging stack that runs on Kubernetes declares, instead of shell commands, the
workload it is (``kubernetes: {namespace: staging, deployment: web}``); its actions are then:

- ``stop`` — scale the Deployment (or StatefulSet) to 0, remembering its replicas; ``start`` —
  scale it back to them;
- ``kill`` — delete the workload's pods (its controller recreates them: a crash, not an outage);
- ``pause`` — a NetworkPolicy selecting the workload's pods with no ingress and no egress rule,
  which isolates them (connections time out, as with a frozen process); ``resume`` — delete it.

Why the client and not ``kubectl`` commands: the actions need the workload's own state (its
replicas, its selector) to be undone exactly, and the client says what failed as an API status.
The package is optional (``pip install 'alertdrill[kubernetes]'``); a manifest that names a
workload without it is refused when the stack starts. Tested here against a small fake API
server only — no Kubernetes cluster was available (README › Backends › external).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alertdrill.errors import ConfigError, StepError

#: The NetworkPolicy ``pause`` creates, per workload.
POLICY_PREFIX = "alertdrill-isolate-"


@dataclass(frozen=True)
class KubernetesTarget:
    """The workload a service is, and how to reach its cluster."""

    namespace: str
    kind: str  # deployment | statefulset
    name: str
    kubeconfig: Path | None = None
    context: str | None = None

    def describe(self) -> str:
        """``deployment staging/web``."""
        return f"{self.kind} {self.namespace}/{self.name}"


def load_target(raw: Any, where: str, base: Path) -> KubernetesTarget:
    """Check a service's ``kubernetes:`` mapping (ConfigError naming the key)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}.kubernetes: give {{namespace: …, deployment: NAME}} or "
                          "{namespace: …, statefulset: NAME}")
    kinds = [k for k in ("deployment", "statefulset") if raw.get(k)]
    if len(kinds) != 1:
        raise ConfigError(f"{where}.kubernetes: name exactly one deployment: or statefulset:")
    unknown = sorted(set(raw) - {"namespace", "deployment", "statefulset", "kubeconfig", "context"})
    if unknown:
        raise ConfigError(f"{where}.kubernetes: unknown key(s) {', '.join(unknown)}",
                          "it takes namespace, deployment or statefulset, kubeconfig, context")
    kubeconfig = base / str(raw["kubeconfig"]) if raw.get("kubeconfig") else None
    if kubeconfig is not None and not kubeconfig.is_file():
        raise ConfigError(f"{where}.kubernetes.kubeconfig: no file {kubeconfig}")
    return KubernetesTarget(str(raw.get("namespace") or "default"), kinds[0], str(raw[kinds[0]]),
                            kubeconfig, str(raw["context"]) if raw.get("context") else None)


class KubernetesActions:
    """The five actions on one workload; remembers what ``stop`` must give back."""

    def __init__(self, target: KubernetesTarget) -> None:
        self.target = target
        self._replicas: int | None = None
        self._apis: tuple[Any, Any, Any] | None = None

    def _clients(self) -> tuple[Any, Any, Any]:
        if self._apis is None:
            try:
                from kubernetes import client, config
            except ImportError:
                raise ConfigError("a service declares kubernetes: actions, but the kubernetes "
                                  "package is not installed",
                                  "pip install 'alertdrill[kubernetes]'") from None
            api = config.new_client_from_config(
                config_file=str(self.target.kubeconfig) if self.target.kubeconfig else None,
                context=self.target.context)
            self._apis = (client.AppsV1Api(api), client.CoreV1Api(api),
                          client.NetworkingV1Api(api))
        return self._apis

    def run(self, action: str) -> str:
        """Do ``action``; what was done, in words. StepError with the API's answer on failure."""
        self._clients()  # ConfigError when the package is missing
        from kubernetes.client.exceptions import ApiException

        try:
            return str(getattr(self, f"_{action}")())
        except ApiException as exc:
            raise StepError(f"kubernetes {action} of {self.target.describe()} failed: "
                            f"{getattr(exc, 'status', '')} {getattr(exc, 'reason', exc)}",
                            "check the namespace, the workload's name and the kubeconfig's "
                            "permissions (scale, pods delete, networkpolicies create/delete)") from None

    # -- the workload ------------------------------------------------------------------------
    def _scale_calls(self) -> tuple[Any, Any]:
        apps, _, _ = self._clients()
        if self.target.kind == "deployment":
            return apps.read_namespaced_deployment_scale, apps.patch_namespaced_deployment_scale
        return apps.read_namespaced_stateful_set_scale, apps.patch_namespaced_stateful_set_scale

    def _workload(self) -> Any:
        apps, _, _ = self._clients()
        read = apps.read_namespaced_deployment if self.target.kind == "deployment" else \
            apps.read_namespaced_stateful_set
        return read(self.target.name, self.target.namespace)

    def _selector(self) -> dict[str, str]:
        labels = self._workload().spec.selector.match_labels or {}
        if not labels:
            raise StepError(f"{self.target.describe()} selects its pods by expressions only; "
                            "alertdrill needs matchLabels to find them")
        return dict(labels)

    def _set_replicas(self, replicas: int) -> int:
        read, patch = self._scale_calls()
        was = int(read(self.target.name, self.target.namespace).spec.replicas or 0)
        patch(self.target.name, self.target.namespace, {"spec": {"replicas": replicas}})
        return was

    def _stop(self) -> str:
        was = self._set_replicas(0)
        if self._replicas is None:  # a second stop must not forget the real count
            self._replicas = was
        return f"scaled {self.target.describe()} from {was} to 0 replicas"

    def _start(self) -> str:
        read, _ = self._scale_calls()
        now = int(read(self.target.name, self.target.namespace).spec.replicas or 0)
        wanted = self._replicas if self._replicas is not None else max(now, 1)
        if now == wanted:
            return f"{self.target.describe()} already has {wanted} replicas"
        self._set_replicas(wanted)
        self._replicas = None
        return f"scaled {self.target.describe()} from {now} back to {wanted} replicas"

    def _kill(self) -> str:
        _, core, _ = self._clients()
        selector = ",".join(f"{k}={v}" for k, v in sorted(self._selector().items()))
        pods = core.list_namespaced_pod(self.target.namespace, label_selector=selector).items
        for pod in pods:
            core.delete_namespaced_pod(pod.metadata.name, self.target.namespace)
        names = ", ".join(p.metadata.name for p in pods) or "none"
        return f"deleted the pods of {self.target.describe()} ({selector}): {names}"

    def _pause(self) -> str:
        _, _, net = self._clients()
        body = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": POLICY_PREFIX + self.target.name,
                             "labels": {"app.kubernetes.io/managed-by": "alertdrill"}},
                "spec": {"podSelector": {"matchLabels": self._selector()},
                         "policyTypes": ["Ingress", "Egress"]}}
        net.create_namespaced_network_policy(self.target.namespace, body)
        return (f"isolated the pods of {self.target.describe()} with NetworkPolicy "
                f"{POLICY_PREFIX + self.target.name} (no ingress, no egress)")

    def _resume(self) -> str:
        _, _, net = self._clients()
        net.delete_namespaced_network_policy(POLICY_PREFIX + self.target.name,
                                             self.target.namespace)
        return f"deleted NetworkPolicy {POLICY_PREFIX + self.target.name}"

    def ready(self) -> bool:
        """Every wanted replica of the workload is ready."""
        try:
            workload = self._workload()
        except Exception:
            return False
        wanted = int(workload.spec.replicas or 0)
        return int((workload.status.ready_replicas if workload.status else 0) or 0) >= wanted
