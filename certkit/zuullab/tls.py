"""The lab's private certificate authority: ZooKeeper's server certificate and the client
certificate every Zuul component presents (Zuul talks to ZooKeeper over TLS only).

Made with `cryptography` at `up`; the CA key never leaves the lab directory (0600)."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 30


@dataclass(frozen=True)
class TLSFiles:
    """Where the CA and the two certificates live (PEM)."""

    dir: Path

    @property
    def ca(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def server_keystore(self) -> Path:
        """ZooKeeper's key and certificate in one PEM (its `ssl.keyStore.type=PEM`)."""
        return self.dir / "zookeeper.pem"

    @property
    def client_cert(self) -> Path:
        return self.dir / "client.crt"

    @property
    def client_key(self) -> Path:
        return self.dir / "client.key"

    def exists(self) -> bool:
        return all(p.is_file() for p in (self.ca, self.server_keystore, self.client_cert,
                                         self.client_key))

    def create(self) -> None:
        """A new CA, then a server certificate for 127.0.0.1 and a client certificate."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "certkit zuul lab CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                           content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False,
                                           encipher_only=False, decipher_only=False), critical=True)
              .sign(ca_key, hashes.SHA256()))
        _write_key(self.ca_key, ca_key)
        self.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        server_key, server = _issue(ca, ca_key, "zookeeper", ExtendedKeyUsageOID.SERVER_AUTH, now)
        _write_key(self.server_keystore, server_key,
                   extra=server.public_bytes(serialization.Encoding.PEM))
        client_key, client = _issue(ca, ca_key, "zuul", ExtendedKeyUsageOID.CLIENT_AUTH, now)
        _write_key(self.client_key, client_key)
        self.client_cert.write_bytes(client.public_bytes(serialization.Encoding.PEM))


def _issue(ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, name: str,
           usage: x509.ObjectIdentifier, now: datetime.datetime
           ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey, extra: bytes = b"") -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(pem + extra)
