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


def automatic(**fields: Any) -> dict[str, Any]:
    return {"name": "x", "port": 1, "tls": {"automatic": {"issuerRef": {"name": "i"}, **fields}}}


@pytest.mark.parametrize(
    ("item", "loc", "message"),
    [
        # Python's $ matches before a final newline; Kubernetes' patterns do not.
        ({"name": "l1\n", "port": 1}, ("name",), "'l1\\n' is not a DNS-1123 label"),
        (
            {"name": "x", "port": 1, "serviceName": "svc\n"},
            ("serviceName",),
            "'svc\\n' is not a DNS-1035 label (a Kubernetes Service name)",
        ),
        (
            {"name": "x", "port": 1, "brokerRef": "broker\n"},
            ("brokerRef",),
            "'broker\\n' is not a Kubernetes resource name (DNS-1123 subdomain)",
        ),
        (
            automatic(issuerRef={"name": "i", "group": "cert-manager.io\n"}),
            ("tls", "automatic", "issuerRef", "group"),
            "'cert-manager.io\\n' is not a Kubernetes API group",
        ),
        (
            automatic(san={"dns": ["mq.example.com\n"]}),
            ("tls", "automatic", "san", "dns", 0),
            "'mq.example.com\\n' is not a DNS name",
        ),
        (
            automatic(san={"dns": ["a" * 60 + "." + "b" * 60 + "." + "c" * 60 + "." + "d" * 80]}),
            ("tls", "automatic", "san", "dns", 0),
            "is not a DNS name",
        ),
        (automatic(duration="720h\n"), ("tls", "automatic", "duration"), "is not a duration"),
        (
            automatic(duration="2562048h"),
            ("tls", "automatic", "duration"),
            "'2562048h' is longer than a Go duration can hold (2562047h)",
        ),
        (
            automatic(duration="2562047h47m16.854775808s"),
            ("tls", "automatic", "duration"),
            "is longer than a Go duration can hold",
        ),
        (
            automatic(duration="59m59s"),
            ("tls", "automatic", "duration"),
            "'59m59s' is shorter than cert-manager's minimum certificate duration of 1h",
        ),
        (
            automatic(renewBefore="4m59s"),
            ("tls", "automatic", "renewBefore"),
            "'4m59s' is shorter than cert-manager's minimum renewBefore of 5m",
        ),
        (
            {
                "name": "x",
                "port": 1,
                "tls": {
                    "keyVault": {
                        "vault": {
                            "name": "kv--aio",
                            "directoryId": "72f988bf-86f1-41af-91ab-2d7cd011db47\n",
                            "credentials": {"servicePrincipalLocalSecretName": "sp"},
                        },
                        "vaultCert": {"name": "c", "version": "v1\n"},
                    }
                },
            },
            ("tls", "keyVault", "vault", "name"),
            "'kv--aio' is not an Azure Key Vault name",
        ),
    ],
)
def test_values_the_cluster_refuses_are_refused(
    item: dict[str, Any], loc: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        MqListenerArgs.model_validate(item)
    messages = {tuple(err["loc"]): err["msg"] for err in caught.value.errors()}
    assert loc in messages, messages
    assert message in messages[loc]


def test_key_vault_version_and_tenant_newlines_are_refused() -> None:
    item = {
        "name": "x",
        "port": 1,
        "tls": {
            "keyVault": {
                "vault": {
                    "name": "kv-aio",
                    "directoryId": "72f988bf-86f1-41af-91ab-2d7cd011db47\n",
                    "credentials": {"servicePrincipalLocalSecretName": "sp"},
                },
                "vaultCert": {"name": "c", "version": "latest\n"},
            }
        },
    }
    with pytest.raises(ValidationError) as caught:
        MqListenerArgs.model_validate(item)
    assert {tuple(err["loc"]) for err in caught.value.errors()} == {
        ("tls", "keyVault", "vault", "directoryId"),
        ("tls", "keyVault", "vaultCert", "version"),
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"duration": "1h", "renewBefore": "5m"},
        {"duration": "2562047h47m16.854775807s", "renewBefore": "2562047h"},
        {"duration": "8760h", "renewBefore": "720h"},
    ],
)
def test_durations_at_the_limits_are_accepted(fields: dict[str, str]) -> None:
    MqListenerArgs.model_validate(automatic(**fields))


def test_key_vault_versions() -> None:
    for version in ("latest", "0123456789abcdef0123456789ABCDEF"):
        vault_cert = {"name": "c", "version": version}
        item = {
            "name": "x",
            "port": 1,
            "tls": {
                "keyVault": {
                    "vault": {
                        "name": "kv-aio",
                        "directoryId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                        "credentials": {"servicePrincipalLocalSecretName": "sp"},
                    },
                    "vaultCert": vault_cert,
                }
            },
        }
        assert MqListenerArgs.model_validate(item).spec()["tls"]["keyVault"]["vaultCert"] == (
            vault_cert
        )
