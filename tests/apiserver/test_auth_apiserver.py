"""BrokerAuthentication and BrokerAuthorization on a real API server (the strict CRDs of
crds/v1beta1): `up` creates them, read back they hold the config's spec with the defaults
written out, a second preview has nothing to do, and `destroy` removes them and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from .conftest import AIO_NAMESPACE, MQ_GROUP, MQ_VERSION, Cluster, Project

pytestmark = [pytest.mark.e2e, pytest.mark.apiserver]

STACK = "auth"
SAT = {"sat": {"audiences": ["aio-mq"]}}
RULES = [
    {
        "principals": {"attributes": [{"group": "sensors"}]},
        "brokerResources": [
            {"method": "Connect"},
            {"method": "Publish", "topics": ["sensors/{principal.username}/#"]},
        ],
    }
]


def config(namespace: str) -> dict[str, Any]:
    return {
        "aio-mq:namespace": namespace,
        "aio-mq:issuers": [{"name": "auth-ca", "selfSigned": {}}],
        "aio-mq:listeners": [
            {
                "name": "edge",
                "port": 8884,
                "serviceType": "loadBalancer",
                "serviceName": "mq-edge",
                "authenticationEnabled": True,
                "authorizationEnabled": True,
                "tls": {"automatic": {"issuerRef": {"name": "auth-ca"}}},
            }
        ],
        "aio-mq:authentications": [
            {
                "name": "edge-authn",
                "listenerRef": ["edge"],
                "authenticationMethods": [SAT, {"x509": {}}],
            }
        ],
        "aio-mq:authorizations": [
            {
                "name": "edge-authz",
                "listenerRef": ["edge"],
                "authorizationPolicies": {"rules": RULES},
            }
        ],
    }


def read(cluster: Cluster, plural: str, name: str, namespace: str) -> Any:
    return cluster.get(MQ_GROUP, MQ_VERSION, plural, name, namespace)


def test_up_reads_back_with_defaults_then_previews_clean_and_destroys(
    cluster: Cluster, project: Project
) -> None:
    namespace = cluster.new_namespace("auth")
    cluster.custom.create_namespaced_custom_object(
        MQ_GROUP,
        MQ_VERSION,
        namespace,
        "brokers",
        {
            "apiVersion": f"{MQ_GROUP}/{MQ_VERSION}",
            "kind": "Broker",
            "metadata": {"name": "broker"},
        },
    )
    project.stack_file(STACK).write_text(yaml.safe_dump({"config": config(namespace)}))
    cluster.use_in(project, STACK)
    project.init(STACK)
    project.pulumi("up", "--yes", "--stack", STACK)

    authn = read(cluster, "brokerauthentications", "edge-authn", namespace)
    assert authn["spec"] == {
        "listenerRef": ["edge"],
        "authenticationMethods": [SAT, {"x509": {"trustedClientCaCert": "client-ca"}}],
    }
    authz = read(cluster, "brokerauthorizations", "edge-authz", namespace)
    assert authz["spec"] == {
        "listenerRef": ["edge"],
        "authorizationPolicies": {"enableCache": False, "rules": RULES},
    }
    listener = read(cluster, "brokerlisteners", "edge", namespace)
    assert (
        listener["spec"]["authenticationEnabled"],
        listener["spec"]["authorizationEnabled"],
    ) == (
        True,
        True,
    )

    project.pulumi("preview", "--expect-no-changes", "--stack", STACK)

    project.pulumi("destroy", "--yes", "--stack", STACK)
    for plural, name in (
        ("brokerauthentications", "edge-authn"),
        ("brokerauthorizations", "edge-authz"),
        ("brokerlisteners", "edge"),
    ):
        assert read(cluster, plural, name, namespace) is None, name
    # The deployment's own BrokerAuthentication is not the stack's: it stays.
    assert read(cluster, "brokerauthentications", "authn", AIO_NAMESPACE) is not None
