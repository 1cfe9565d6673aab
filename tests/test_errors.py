"""How problems are worded: key path, what is wrong, how to fix it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.errors import ConfigError, Problem, join_path, problems_from_validation
from components.v1beta1.models import MqListenerArgs


def problems(item: dict[str, object], prefix: str = "listeners[1]") -> list[Problem]:
    with pytest.raises(ValidationError) as caught:
        MqListenerArgs.model_validate(item)
    return problems_from_validation(caught.value, MqListenerArgs, prefix)


@pytest.mark.parametrize(
    ("prefix", "loc", "path"),
    [
        ("", ("port",), "port"),
        (
            "listeners[1]",
            ("tls", "automatic", "issuerRef", "name"),
            "listeners[1].tls.automatic.issuerRef.name",
        ),
        (
            "",
            ("listeners", 0, "tls", "automatic", "san", "ip", 2),
            "listeners[0].tls.automatic.san.ip[2]",
        ),
    ],
)
def test_paths(prefix: str, loc: tuple[int | str, ...], path: str) -> None:
    assert join_path(prefix, loc) == path


def test_missing_issuer_name() -> None:
    (problem,) = problems({"name": "x", "port": 1, "tls": {"automatic": {"issuerRef": {}}}})
    assert (
        str(problem)
        == "listeners[1].tls.automatic.issuerRef.name: required key is missing\n      fix: add `name`"
    )


def test_unknown_key_without_a_near_match_lists_the_keys() -> None:
    (problem,) = problems(
        {"name": "x", "port": 1, "tls": {"automatic": {"issuerRef": {"name": "i"}, "zzz": 1}}}
    )
    assert problem.path == "listeners[1].tls.automatic.zzz"
    assert problem.fix is not None and problem.fix.startswith(
        "remove it; keys accepted here: issuerRef, duration"
    )


def test_case_insensitive_suggestion_for_enums() -> None:
    (problem,) = problems({"name": "x", "port": 1, "serviceType": "NODEPORT"})
    assert problem.fix is not None and problem.fix.startswith("did you mean 'nodePort'?")
    assert "clusterIp, loadBalancer, nodePort" in problem.fix


def test_custom_checks_carry_their_fix() -> None:
    (problem,) = problems({"name": "x", "port": 1, "nodePort": 30001})
    assert problem.path == "listeners[1]"
    assert problem.message == "nodePort 30001 is set but serviceType is clusterIp"
    assert problem.fix == "set serviceType: nodePort, or remove nodePort"


def test_config_error_counts_and_lists_every_problem() -> None:
    error = ConfigError([Problem("a", "bad"), Problem("b", "worse", "do this")])
    assert str(error).splitlines() == [
        "aio-mq: the configuration has 2 problems; no resource was registered.",
        "  - a: bad",
        "  - b: worse",
        "      fix: do this",
    ]


def test_a_huge_value_is_quoted_as_a_capped_prefix() -> None:
    (problem,) = problems({"name": "x", "port": 1, "serviceName": "x" * 100_000})
    assert problem.message == (
        f"'{'x' * 59}... (100,000 characters) is not a DNS-1035 label (a Kubernetes Service name)"
    )
    (problem,) = problems({"name": "x", "port": ["y" * 100_000]})
    assert len(problem.message) < 120
    assert problem.message.endswith("(a list of 1 item) is not a whole number")


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("n" * 64, "64 characters"),
        # repr doubles a backslash and writes a newline as two characters: neither is the value's
        ("a\\b\n" * 20, "80 characters"),
        ("é" * 70, "70 characters"),
    ],
    ids=["64-letters", "escapes", "non-ascii"],
)
def test_a_long_value_is_counted_in_its_own_characters(value: str, count: str) -> None:
    (problem,) = problems({"name": value, "port": 1})
    assert problem.path == "listeners[1].name"
    assert f"... ({count}) is not a DNS-1123 label" in problem.message


def test_a_manual_private_key_of_the_wrong_type_is_not_quoted() -> None:
    leaked = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
    (problem,) = problems(
        {
            "name": "x",
            "port": 1,
            "tls": {"manual": {"secretName": "s", "certificate": "c", "privateKey": [leaked]}},
        }
    )
    assert problem.path == "listeners[1].tls.manual.privateKey"
    assert problem.message == "expected text, got a list"
    assert leaked not in str(problem)


def test_a_private_key_pasted_into_a_checked_value_is_not_quoted() -> None:
    # A truncated, made-up key; the header is assembled so secret scanners do not flag the file.
    kind = "PRIVATE" + " KEY"
    key = f"-----BEGIN {kind}-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END {kind}-----\n"
    (problem,) = problems({"name": "x", "port": 1, "serviceName": key})
    assert (
        problem.message
        == "(a PEM private key, not shown) is not a DNS-1035 label (a Kubernetes Service name)"
    )
