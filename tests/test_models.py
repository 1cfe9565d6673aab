"""MqListenerArgs and friends: what they accept and the CR spec they write."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components import IssuerArgs, MqListenerArgs
from components.spec import go_duration_seconds


def spec_of(item: dict[str, Any]) -> dict[str, Any]:
    return MqListenerArgs.model_validate(item).resolved("azure-iot-operations", "broker").spec()


def test_defaults_are_written_out() -> None:
    assert spec_of({"name": "plain", "port": 1883}) == {
        "brokerRef": "broker",
        "port": 1883,
        "serviceType": "clusterIp",
        "serviceName": "aio-mq-dmqtt-frontend",
        "authenticationEnabled": False,
        "authorizationEnabled": False,
    }


def test_seed_secure_listener_round_trips() -> None:
    # The second example of the seed document, as a stack config item.
    item = {
        "name": "my-secure-listener",
        "authenticationEnabled": True,
        "authorizationEnabled": False,
        "brokerRef": "broker",
        "port": 8883,
        "tls": {
            "automatic": {
                "issuerRef": {
                    "name": "e2e-cert-issuer",
                    "kind": "Issuer",
                    "group": "cert-manager.io",
                }
            }
        },
    }
    spec = spec_of(item)
    assert spec["tls"] == item["tls"]
    assert spec["authenticationEnabled"] is True


def test_issuer_ref_defaults_kind_and_group() -> None:
    spec = spec_of({"name": "s", "port": 1, "tls": {"automatic": {"issuerRef": {"name": "i"}}}})
    assert spec["tls"]["automatic"]["issuerRef"] == {
        "name": "i",
        "kind": "Issuer",
        "group": "cert-manager.io",
    }


def test_san_always_has_both_lists() -> None:
    spec = spec_of(
        {
            "name": "s",
            "port": 1,
            "tls": {"automatic": {"issuerRef": {"name": "i"}, "san": {"dns": ["mq.example.com"]}}},
        }
    )
    assert spec["tls"]["automatic"]["san"] == {"dns": ["mq.example.com"], "ip": []}


def test_every_automatic_field_passes_through() -> None:
    automatic = {
        "issuerRef": {
            "name": "vault-issuer",
            "kind": "ClusterIssuer",
            "group": "vault.example.com",
        },
        "duration": "2160h",
        "renewBefore": "360h",
        "privateKey": {"algorithm": "RSA", "rotationPolicy": "Never", "size": 4096},
        "san": {"dns": ["*.example.com"], "ip": ["10.0.0.4", "::1"]},
        "secretName": "mq-server-cert",
        "secretNamespace": "azure-iot-operations",
    }
    assert spec_of({"name": "s", "port": 1, "tls": {"automatic": automatic}})["tls"] == {
        "automatic": automatic
    }


def test_key_vault_passes_through_and_accepts_the_docs_spelling() -> None:
    key_vault = {
        "vault": {
            "name": "kv-aio",
            "directoryId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "credentials": {"servicePrincipalLocalSecretName": "aio-akv-sp"},
        },
        "vaultCert": {"name": "server-cert", "version": "latest"},
    }
    docs_spelling = {**key_vault, "vaultCaChainCert": {"name": "chain"}}
    spec = spec_of({"name": "s", "port": 1, "tls": {"keyVault": docs_spelling}})
    assert spec["tls"]["keyVault"] == {**key_vault, "vaultCaChainSecret": {"name": "chain"}}


def test_manual_tls_material_is_not_a_cr_field() -> None:
    item = {
        "name": "s",
        "port": 1,
        "tls": {"manual": {"secretName": "c", "certificate": "PEM", "privateKey": "KEY"}},
    }
    args = MqListenerArgs.model_validate(item)
    assert spec_of(item)["tls"] == {"manual": {"secretName": "c"}}
    assert "KEY" not in repr(args)
    assert args.tls is not None and args.tls.manual is not None and args.tls.manual.creates_secret


def test_node_port_and_snake_case_names() -> None:
    args = MqListenerArgs(
        name="np", port=1883, service_type="nodePort", service_name="np-svc", node_port=30883
    )
    assert args.resolved("ns", "broker").spec()["nodePort"] == 30883
    assert (
        MqListenerArgs.model_validate(
            {"name": "np", "port": 1, "service_type": "nodePort", "node_port": 30001}
        ).node_port
        == 30001
    )


def test_namespace_and_broker_from_args_win_over_defaults() -> None:
    args = MqListenerArgs(name="x", port=1, namespace="mine", broker_ref="other").resolved(
        "ns", "broker"
    )
    assert (args.namespace, args.spec()["brokerRef"]) == ("mine", "other")


def test_tls_mode() -> None:
    assert MqListenerArgs(name="x", port=1).tls_mode == "none"
    assert (
        MqListenerArgs.model_validate(
            {"name": "x", "port": 1, "tls": {"manual": {"secretName": "s"}}}
        ).tls_mode
        == "manual"
    )


@pytest.mark.parametrize(
    ("item", "loc"),
    [
        ({"name": "x", "port": 0}, ("port",)),
        ({"name": "x", "port": 65536}, ("port",)),
        ({"name": "x", "port": "1883"}, ("port",)),
        ({"name": "x", "port": 1883.5}, ("port",)),
        ({"name": "x", "port": True}, ("port",)),
        ({"name": "x", "port": 1, "serviceType": "ClusterIP"}, ("serviceType",)),
        ({"name": "Upper", "port": 1}, ("name",)),
        ({"name": "x" * 64, "port": 1}, ("name",)),
        ({"name": "x", "port": 1, "serviceName": "bad_name"}, ("serviceName",)),
        ({"name": "x", "port": 1, "nodePort": 30001}, ()),
        ({"name": "x", "port": 1, "authenticationEnabled": "yes"}, ("authenticationEnabled",)),
        ({"name": "x", "port": 1, "tls": {}}, ("tls",)),
        (
            {"name": "x", "port": 1, "tls": {"automatic": {"issuerRef": {}}}},
            ("tls", "automatic", "issuerRef", "name"),
        ),
        (
            {
                "name": "x",
                "port": 1,
                "tls": {"automatic": {"issuerRef": {"name": "i", "kind": "issuer"}}},
            },
            ("tls", "automatic", "issuerRef", "kind"),
        ),
        (
            {
                "name": "x",
                "port": 1,
                "tls": {"automatic": {"issuerRef": {"name": "i"}, "duration": "30d"}},
            },
            ("tls", "automatic", "duration"),
        ),
        (
            {
                "name": "x",
                "port": 1,
                "tls": {"automatic": {"issuerRef": {"name": "i"}, "duration": "100h"}},
            },
            ("tls", "automatic"),
        ),
        (
            {
                "name": "x",
                "port": 1,
                "tls": {
                    "automatic": {"issuerRef": {"name": "i"}, "privateKey": {"algorithm": "ECDSA"}}
                },
            },
            ("tls", "automatic", "privateKey", "rotationPolicy"),
        ),
        (
            {
                "name": "x",
                "port": 1,
                "tls": {
                    "automatic": {
                        "issuerRef": {"name": "i"},
                        "privateKey": {
                            "algorithm": "ECDSA",
                            "rotationPolicy": "Always",
                            "size": 2048,
                        },
                    }
                },
            },
            ("tls", "automatic", "privateKey"),
        ),
        (
            {
                "name": "x",
                "port": 1,
                "tls": {"automatic": {"issuerRef": {"name": "i"}, "san": {"ip": ["not-an-ip"]}}},
            },
            ("tls", "automatic", "san", "ip", 0),
        ),
        (
            {"name": "x", "port": 1, "tls": {"manual": {"secretName": "s", "certificate": "PEM"}}},
            ("tls", "manual"),
        ),
        (
            {
                "name": "x",
                "port": 1,
                "tls": {
                    "keyVault": {
                        "vault": {
                            "name": "kv",
                            "directoryId": "nope",
                            "credentials": {"servicePrincipalLocalSecretName": "sp"},
                        },
                        "vaultCert": {"name": "c"},
                    }
                },
            },
            ("tls", "keyVault", "vault", "name"),
        ),
        ({"name": "x", "port": 1, "prot": 2}, ("prot",)),
    ],
)
def test_bad_input_is_refused_at_its_key(item: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        MqListenerArgs.model_validate(item)
    assert loc in [tuple(err["loc"]) for err in caught.value.errors()]


def test_two_tls_modes_are_reported_with_problems_inside_them() -> None:
    item = {
        "name": "x",
        "port": 1,
        "tls": {"automatic": {"issuerRef": {}}, "manual": {"secretName": "s"}},
    }
    with pytest.raises(ValidationError) as caught:
        MqListenerArgs.model_validate(item)
    locs = {tuple(err["loc"]): err for err in caught.value.errors()}
    assert ("tls", "automatic", "issuerRef", "name") in locs
    assert "found automatic, manual" in locs[("tls",)]["msg"]


def test_issuer_needs_exactly_one_type() -> None:
    assert IssuerArgs.model_validate({"name": "ss", "selfSigned": {}}).spec() == {"selfSigned": {}}
    assert IssuerArgs.model_validate(
        {"name": "ca", "kind": "ClusterIssuer", "ca": {"secretName": "k"}}
    ).spec() == {"ca": {"secretName": "k"}}
    for bad in ({"name": "none"}, {"name": "both", "selfSigned": {}, "ca": {"secretName": "k"}}):
        with pytest.raises(ValidationError):
            IssuerArgs.model_validate(bad)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("720h", 2_592_000), ("1h30m", 5400), ("90s", 90), ("1.5h", 5400), ("500ms", 0.5)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert go_duration_seconds(text) == seconds
