"""Digits the cluster reads as digits: ASCII only.

Go (Kubernetes, cert-manager), the API server's patterns and ARM read 0-9 and nothing else,
while Python's `\\d`, `str.isdigit` and `int()` take any Unicode digit. For every class of
value whose rule is theirs, a value written with ASCII digits passes and the same value with
the digits of another script is refused, by the program and by the policy pack.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from components import spec
from components.v1.auth import BrokerAuthenticationArgs
from components.v1.models import MqListenerV1Args
from components.v1beta1.models import MqListenerArgs
from policy import common as policy


def _digit_sets() -> dict[str, str]:
    """The ten digits of every script Unicode has (each zero starts a run of ten), by name."""
    zeros = (
        chr(cp)
        for cp in range(0x110000)
        if cp != ord("0") and unicodedata.decimal(chr(cp), None) == 0
    )
    return {
        unicodedata.name(zero).removesuffix(" DIGIT ZERO").lower(): "".join(
            chr(ord(zero) + i) for i in range(10)
        )
        for zero in zeros
    }


SCRIPTS = _digit_sets()
ARABIC_INDIC = SCRIPTS["arabic-indic"]
SAMPLE = ["arabic-indic", "extended arabic-indic", "devanagari", "fullwidth", "mathematical bold"]

# (class, its type, a valid value written with ASCII digits)
VALUES: list[tuple[str, Any, str]] = [
    ("duration", spec.CertificateDuration, "720h"),
    ("duration", spec.CertificateDuration, "1h30m"),
    ("duration", spec.CertificateDuration, "2160h0.5s"),
    ("renewBefore", spec.RenewBefore, "240h"),
    ("label", spec.Dns1123Label, "edge-2"),
    ("resource name", spec.ResourceName, "mq.v2.example-1"),
    ("SAN DNS name", spec.SanDnsName, "mq2.example.com"),
    ("IPv4", spec.IpAddress, "10.0.0.4"),
    ("IPv6", spec.IpAddress, "fd00::1234"),
    ("https URL port", spec.HttpsUrl, "https://auth.example.com:8443/check"),
    ("Key Vault name", spec.KeyVaultName, "kv-edge-01"),
    ("Key Vault object", spec.KeyVaultObjectName, "cert-2026"),
    ("Key Vault version", spec.KeyVaultObjectVersion, "0123456789abcdef0123456789abcdef"),
    ("tenant GUID", spec.Guid, "72f988bf-86f1-41af-91ab-2d7cd011db47"),
]


def in_script(value: str, digits: str) -> str:
    return value.translate(str.maketrans("0123456789", digits))


def test_every_script_sample_is_a_set_of_unicode_digits_python_reads() -> None:
    # Guards the premise: Python itself takes these as digits, so each needs refusing.
    assert len(SCRIPTS) > 50
    assert set(SAMPLE) <= set(SCRIPTS)
    for digits in SCRIPTS.values():
        assert int(digits) == 123456789


@pytest.mark.parametrize(("what", "annotation", "value"), VALUES, ids=[v[2] for v in VALUES])
def test_ascii_digits_pass(what: str, annotation: Any, value: str) -> None:
    TypeAdapter(annotation).validate_python(value)


@pytest.mark.parametrize(("what", "annotation", "value"), VALUES, ids=[v[2] for v in VALUES])
def test_other_scripts_digits_are_refused(what: str, annotation: Any, value: str) -> None:
    adapter = TypeAdapter(annotation)
    accepted = []
    for script, digits in SCRIPTS.items():
        foreign = in_script(value, digits)
        try:
            adapter.validate_python(foreign)
        except ValidationError:
            continue
        accepted.append(f"{script}: {foreign!r}")
    assert accepted == []


@pytest.mark.parametrize("script", SAMPLE)
def test_a_single_foreign_digit_among_ascii_ones_is_refused(script: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(spec.CertificateDuration).validate_python("72" + SCRIPTS[script][0] + "h")


@pytest.mark.parametrize("script", SAMPLE)
def test_numbers_given_as_text_are_refused(script: str) -> None:
    # Ports and key sizes are numbers: text is refused whatever its digits.
    for text in ("1883", in_script("1883", SCRIPTS[script])):
        with pytest.raises(ValidationError):
            TypeAdapter(spec.Port).validate_python(text)


@pytest.mark.parametrize(
    "address",
    ["fe80::1%eth0", "fe80::1%1", "fe80::1%" + ARABIC_INDIC[1]],
)
def test_an_ipv6_zone_is_refused_as_cert_manager_does(address: str) -> None:
    # Python keeps a scope id after '%' (any text, any digits); Go's net.ParseIP refuses it.
    with pytest.raises(ValidationError, match="is not an IP address"):
        TypeAdapter(spec.IpAddress).validate_python(address)


@pytest.mark.parametrize("url", ["https://auth.example.com:port/", "https://auth.example.com:0/"])
def test_an_https_url_needs_a_port_number(url: str) -> None:
    with pytest.raises(ValidationError, match="is not an https URL"):
        TypeAdapter(spec.HttpsUrl).validate_python(url)


@pytest.mark.parametrize("script", SAMPLE)
def test_a_duration_in_other_digits_is_refused_at_its_key_by_both_apis(script: str) -> None:
    duration = in_script("20h", SCRIPTS[script])
    preview = {"name": "l", "port": 1, "tls": {"automatic": {"issuerRef": {"name": "ca"}}}}
    preview["tls"]["automatic"]["duration"] = duration  # type: ignore[index]
    with pytest.raises(ValidationError) as caught:
        MqListenerArgs.model_validate(preview)
    assert [e["loc"] for e in caught.value.errors()] == [("tls", "automatic", "duration")]
    assert "is not a duration" in caught.value.errors()[0]["msg"]

    tls = {"mode": "Automatic", "certManagerCertificateSpec": {"issuerRef": {"name": "ca"}}}
    tls["certManagerCertificateSpec"]["renewBefore"] = duration  # type: ignore[index]
    with pytest.raises(ValidationError) as caught:
        MqListenerV1Args.model_validate({"name": "l", "ports": [{"port": 1, "tls": tls}]})
    assert [e["loc"] for e in caught.value.errors()] == [
        ("ports", 0, "tls", "certManagerCertificateSpec", "renewBefore")
    ]


@pytest.mark.parametrize("script", SAMPLE)
def test_the_policy_pack_reads_durations_as_go_does(script: str) -> None:
    assert policy.go_duration_seconds("20h") == 72000
    for text in (in_script("20h", SCRIPTS[script]), "1h" + SCRIPTS[script][3] + "m"):
        with pytest.raises(ValueError, match="not a Go duration"):
            policy.go_duration_seconds(text)


def test_a_custom_auth_endpoint_port_in_other_digits_is_refused() -> None:
    method = {
        "method": "Custom",
        "customSettings": {"endpoint": "https://auth.example.com:" + SCRIPTS["devanagari"][8]},
    }
    with pytest.raises(ValidationError, match="is not an https URL"):
        BrokerAuthenticationArgs.model_validate({"name": "a", "authenticationMethods": [method]})


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("1.5h", 5400 * 10**9),
        (".5h", 1800 * 10**9),
        ("1.h", 3600 * 10**9),
        ("2μs", 2000),
        ("2\u00b5s", 2000),
    ],
)
def test_go_number_forms_the_cluster_accepts(text: str, nanoseconds: int) -> None:
    # Valid Go spellings must not be refused either (μ: Greek mu, which Go reads like µ).
    assert TypeAdapter(spec.GoDuration).validate_python(text) == text
    assert spec.go_duration_nanoseconds(text) == nanoseconds
