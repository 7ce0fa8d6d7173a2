"""Certificates the harness issues for a stack: one CA per stack, leaf certificates with a chosen
expiry, so that certificate-expiry alerts fire from a real TLS handshake.

The blackbox exporter verifies the chain against the stack's CA (``ca_file``), and reports
``probe_ssl_earliest_cert_expiry`` over the verified chain: the CA lives ten years, so the
earliest expiry is always the leaf's, i.e. exactly what the scenario asked for.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: File names inside a certificate directory; the TLS endpoint reloads them when they change.
CERT_FILE = "tls.crt"
KEY_FILE = "tls.key"
CA_FILE = "ca.crt"


@dataclass(frozen=True)
class Authority:
    """The stack's own CA: its key never leaves the stack's workdir."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def write(self, directory: Path) -> Path:
        """Write the CA certificate (public part) and return its path."""
        path = directory / CA_FILE
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path


def make_authority(name: str = "alertdrill stack CA") -> Authority:
    """A fresh CA valid for ten years (so it is never the earliest expiry of a chain)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Authority(cert, key)


def issue_leaf(ca: Authority, names: list[str], days: float, directory: Path) -> datetime:
    """Issue a server certificate for ``names`` expiring ``days`` from now; return its expiry.

    Files are replaced atomically (write, then rename), so a handshake in progress never reads a
    half-written key. ``days`` may be fractional or negative (an already expired certificate).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    expires = now + timedelta(days=days)
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now - timedelta(minutes=5), expires - timedelta(minutes=5)))
        .not_valid_after(expires)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write(directory / KEY_FILE, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), mode=0o600)
    _atomic_write(directory / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM)
                  + ca.cert.public_bytes(serialization.Encoding.PEM))
    return expires


def leaf_expiry(directory: Path) -> datetime:
    """The expiry of the leaf certificate currently served from ``directory``."""
    cert = x509.load_pem_x509_certificate((directory / CERT_FILE).read_bytes())
    return cert.not_valid_after_utc


def _atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write, then rename; the file belongs to the directory's owner.

    A server in a container runs as its own user (the Docker backend gives it the directory):
    a private key written by root with mode 0600 would be unreadable to it. On the local
    backend the directory is the harness's own, so nothing changes.
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, mode)
    owner = path.parent.stat()
    if os.geteuid() == 0 and (owner.st_uid, owner.st_gid) != (0, 0):
        os.chown(tmp, owner.st_uid, owner.st_gid)
    os.replace(tmp, path)
