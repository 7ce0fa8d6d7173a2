"""``tls-endpoint``: HTTPS with a certificate the harness issues (alertdrill.targets.tls)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from alertdrill.backends.certs import issue_leaf
from alertdrill.backends.ports import LOOPBACK
from alertdrill.kinds.base import Container, ContainerHost, Process, ProcessHost, TlsReady
from alertdrill.kinds.capabilities import CertificateHolder
from alertdrill.kinds.python import PYTHON_USER, PythonKind

if TYPE_CHECKING:
    from alertdrill.backends.certs import Authority
    from alertdrill.engine.stackspec import ServiceSpec

#: Days a freshly issued certificate of a TLS endpoint is valid (until a fault reissues it).
DEFAULT_CERT_DAYS = 90.0


class TlsEndpoint(PythonKind):
    """Serves a certificate of the stack's CA for every name the configs give it; certificate
    faults reissue it (the server reloads on the new file)."""

    name = "tls-endpoint"
    module = "alertdrill.targets.tls"
    container_port = 8443
    rank = 8
    ready = TlsReady()
    defaults: ClassVar[dict[str, Any]] = {"certificate_days": DEFAULT_CERT_DAYS}
    provides = (CertificateHolder,)

    def _issue(self, spec: ServiceSpec, authority: Authority, names: list[str],
               cert_dir: Path) -> CertificateHolder:
        issue_leaf(authority, names, float(self.option(spec, "certificate_days")), cert_dir)
        return CertificateHolder(cert_dir, tuple(names), authority)

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        cert_dir = host.workdir / f"certs-{spec.name}"
        names = [a.rsplit(":", 1)[0] for a in spec.addresses] + [LOOPBACK]
        holder = self._issue(spec, host.authority, names, cert_dir)
        return self.local(lambda: ["--cert-dir", str(cert_dir)], holder)

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        cert_dir = host.directory(f"certs-{spec.name}", PYTHON_USER)
        holder = self._issue(spec, host.authority(), [*host.aliases(spec), LOOPBACK], cert_dir)
        return self.in_image(port, ["--cert-dir", "/alertdrill/certs"],
                             {str(cert_dir): ("/alertdrill/certs", "ro")}, holder)


KIND = TlsEndpoint()
