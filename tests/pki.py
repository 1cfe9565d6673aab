"""Certificates and keys made at test time (nothing secret is committed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(
    key: Key,
    dns: list[str],
    *,
    issuer_key: Key | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0] if dns else "test")])
        )
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aio-mq test CA")]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=30))
    )
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


def cert_pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def key_pem(key: Key, password: bytes | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


FRONTEND_HOSTS = [
    "aio-mq-dmqtt-frontend",
    "aio-mq-dmqtt-frontend.azure-iot-operations.svc.cluster.local",
]


def tls_pair(dns: list[str] | None = None) -> tuple[str, str]:
    """A valid certificate and unencrypted key for the default frontend Service."""
    key = ec_key()
    return cert_pem(certificate(key, FRONTEND_HOSTS if dns is None else dns)), key_pem(key)
