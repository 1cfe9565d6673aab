"""Checks on a certificate and private key before they become a kubernetes.io/tls Secret.

The broker frontend does not start with a bad Secret and only a log line says why, so what can
be known from the PEM text is checked here: both parse, the key is unencrypted and belongs to
the certificate, the certificate is valid now and names the host clients connect to, and the
chain uses one key algorithm.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from pydantic import Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from .errors import Problem, join_path
from .project_files import read_project_file
from .spec import Spec

_PRIVATE_KEY_PEM = re.compile(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----")


class TlsMaterial(Spec):
    """A certificate chain and key to create a manual-TLS Secret from, inline (`certificate`,
    `privateKey`) or as files (`certificateFile`, `privateKeyFile`). Both or neither; neither
    means the Secret already exists. None of them is a CR field, and the key stays secret."""

    certificate: str | None = Field(default=None, exclude=True, repr=False)
    private_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    certificate_file: str | None = Field(default=None, exclude=True)
    """PEM file of the certificate chain, relative to the project directory."""
    private_key_file: str | None = Field(default=None, exclude=True)
    """PEM file of the key, relative to the project directory: read at run time and kept a
    Pulumi secret; keep it out of git and readable by its owner only."""

    @model_validator(mode="after")
    def _one_source_each_and_both_or_neither(self) -> TlsMaterial:
        sources = {
            ("certificate", "certificateFile"): (self.certificate, self.certificate_file),
            ("privateKey", "privateKeyFile"): (self.private_key, self.private_key_file),
        }
        for (inline, file), (text, path) in sources.items():
            if text is not None and path is not None:
                raise PydanticCustomError(
                    "tls_source",
                    "{inline} and {file} are both given",
                    {
                        "inline": inline,
                        "file": file,
                        "fix": f"keep one of them: the text in {inline}, or a path in {file}",
                    },
                )
        given = [inline for (inline, _), pair in sources.items() if pair != (None, None)]
        if given == ["certificate"] and self._certificate_holds_key():
            # The key is there, in the wrong place: saying it is missing would send the user
            # looking for it. Its text is never quoted.
            where, fix = (
                (
                    "text",
                    "move the private key's PEM block out of certificate into privateKey, "
                    "set encrypted (config set --secret), or into a file named by privateKeyFile",
                )
                if self.certificate is not None
                else (
                    f"file {self.certificate_file!r}",
                    "move the private key's PEM block "
                    "out of that file into a file of its own, named by privateKeyFile",
                )
            )
            raise PydanticCustomError(
                "key_in_certificate",
                "the certificate {where} holds a private key, and privateKey is not given",
                {"where": where, "fix": f"{fix}; the certificate keeps only the certificates"},
            )
        if len(given) == 1:
            raise PydanticCustomError(
                "tls_material",
                "certificate and privateKey go together; {missing} is missing",
                {
                    "missing": "privateKey" if given == ["certificate"] else "certificate",
                    "fix": "give both (inline, or as files with certificateFile and "
                    "privateKeyFile) to create the Secret, or neither to use an existing Secret",
                },
            )
        return self

    def _certificate_holds_key(self) -> bool:
        if self.certificate is not None:
            return holds_private_key(self.certificate)
        # Read only to word this error; an unreadable file is reported where files are read.
        text, _ = read_project_file(str(self.certificate_file), "")
        return holds_private_key(text)

    @property
    def creates_secret(self) -> bool:
        return self.certificate is not None or self.certificate_file is not None

    def revealed_key(self) -> str:
        return self.private_key.get_secret_value() if self.private_key else ""


def holds_private_key(text: str) -> bool:
    """Whether `text` holds a PEM private key (any kind: PKCS#8, RSA, EC, encrypted)."""
    return bool(_PRIVATE_KEY_PEM.search(text))


def service_hosts(service_name: str, namespace: str) -> list[str]:
    """The names a client inside the cluster may use for the listener's Service."""
    return [
        service_name,
        f"{service_name}.{namespace}",
        f"{service_name}.{namespace}.svc",
        f"{service_name}.{namespace}.svc.cluster.local",
    ]


def check_tls_material(
    certificate: str,
    private_key: str,
    hosts: list[str],
    path: str,
    now: datetime | None = None,
) -> list[Problem]:
    """Problems with this certificate chain and key, located under `path` (the tls.manual key)."""
    cert_path = join_path(path, ("certificate",))
    key_path = join_path(path, ("privateKey",))
    problems: list[Problem] = []

    if holds_private_key(certificate):
        problems.append(
            Problem(
                cert_path,
                "the certificate text holds a private key too; tls.crt and the Pulumi state "
                "would carry it in clear",
                "keep only the certificates there; give the key in privateKey (encrypted) or "
                "privateKeyFile",
            )
        )
    chain = _load_chain(certificate, cert_path, problems)
    key = _load_key(private_key, key_path, problems)
    if not chain:
        return problems
    leaf = chain[0]
    now = now or datetime.now(UTC)

    if key is not None and not _same_public_key(leaf.public_key(), key):
        problems.append(
            Problem(
                key_path,
                "the private key does not belong to the certificate",
                "give the key the certificate was issued for (the first certificate in the PEM)",
            )
        )
    if leaf.not_valid_after_utc <= now:
        problems.append(
            Problem(
                cert_path,
                f"the certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
                "renew it, or let cert-manager manage it with tls.automatic",
            )
        )
    elif leaf.not_valid_before_utc > now:
        problems.append(
            Problem(
                cert_path,
                f"the certificate is not valid before "
                f"{leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
                "check the clock of the machine that issued it, or issue it again",
            )
        )
    names = _subject_alt_names(leaf)
    if not any(_covers(name, host) for name in names for host in hosts):
        problems.append(
            Problem(
                cert_path,
                f"the certificate's SANs ({', '.join(names) or 'none'}) do not cover the "
                f"listener's service host",
                f"issue it with a SAN for {hosts[0]} and {hosts[-1]}",
            )
        )
    algorithms = {_algorithm(cert.public_key()) for cert in chain}
    if len(algorithms) > 1:
        problems.append(
            Problem(
                cert_path,
                f"the chain mixes key algorithms ({', '.join(sorted(algorithms))})",
                "use one algorithm (EC or RSA) for every certificate in the chain",
            )
        )
    return problems


def _load_chain(text: str, path: str, problems: list[Problem]) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(text.encode())
    except ValueError as exc:
        problems.append(
            Problem(
                path,
                f"not a PEM certificate ({exc})",
                "paste the certificate chain, starting with -----BEGIN CERTIFICATE-----",
            )
        )
        return []


def _load_key(text: str, path: str, problems: list[Problem]) -> PrivateKeyTypes | None:
    try:
        return serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:
        problems.append(
            Problem(
                path,
                "the private key is encrypted; the broker needs it unencrypted",
                "decrypt it (e.g. openssl pkey -in key.pem -out plain.pem) and store it as a "
                "Pulumi secret",
            )
        )
    except (ValueError, UnsupportedAlgorithm):
        # The key text is secret: never echo it or the parser's view of it.
        problems.append(
            Problem(
                path,
                "not a PEM private key",
                "give the unencrypted key as PEM text (PKCS#8, or the EC or RSA form)",
            )
        )
    return None


def _public_bytes(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _same_public_key(public: PublicKeyTypes, private: PrivateKeyTypes) -> bool:
    return _public_bytes(public) == _public_bytes(private.public_key())


def _algorithm(key: PublicKeyTypes) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC"
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return "EdDSA"
    return type(key).__name__


def _subject_alt_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    dns: list[str] = san.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return dns + ips


def _covers(san: str, host: str) -> bool:
    """RFC 6125 matching: a wildcard stands for exactly one left-most label."""
    try:
        return ipaddress.ip_address(san) == ipaddress.ip_address(host)
    except ValueError:
        pass
    san, host = san.lower(), host.lower()
    if san.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == san[2:]
    return san == host


def tls_material(manual: TlsMaterial, path: str) -> tuple[str, str, list[Problem]]:
    """The certificate chain and the key of `manual` (at key path `path`), given inline or read
    from their files."""
    certificate, key = manual.certificate or "", manual.revealed_key()
    problems: list[Problem] = []
    if manual.certificate_file is not None:
        certificate, problems = read_project_file(
            manual.certificate_file, join_path(path, ("certificateFile",))
        )
    if manual.private_key_file is not None:
        key, key_problems = read_project_file(
            manual.private_key_file, join_path(path, ("privateKeyFile",)), secret=True
        )
        problems += key_problems
    return certificate, key, problems
