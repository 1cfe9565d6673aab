"""Issue 17 items 3, 4, 8 and 9 on the real engine: a GA stack file with one input of each
class that the cluster refuses (a Service name starting with a digit, an authorization the
preview API refuses, a duration in Arabic-Indic digits (720h), a 64-character name) fails `preview`
with every problem at its key path, and nothing is registered."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Project
from tests.e2e.test_trust import RENDER, refused, write_stack

pytestmark = pytest.mark.e2e

GA = "mqttbroker.iotoperations.azure.com/v1"


def test_a_ga_stack_with_inputs_the_cluster_refuses_fails_preview(project: Project) -> None:
    automatic = {
        "mode": "Automatic",
        "certManagerCertificateSpec": {
            "issuerRef": {"name": "ca"},
            "duration": "\u0667\u0662\u0660h",
        },
    }
    write_stack(
        project,
        {
            "apiVersion": GA,
            "kubernetes": RENDER,
            "issuers": [{"name": "ca", "selfSigned": {}}],
            "listeners": [
                {"name": "1edge", "serviceType": "LoadBalancer", "ports": [{"port": 1884}]},
                {
                    "name": "np",
                    "serviceType": "NodePort",
                    "serviceName": "9svc",
                    "ports": [{"port": 1885, "tls": automatic}],
                },
                {"name": "n" * 64, "ports": [{"port": 1886}]},
            ],
            "authorizations": [
                {
                    "name": "z",
                    "authorizationPolicies": {
                        "rules": [
                            {
                                "principals": {},
                                "brokerResources": [{"method": "Publish", "topics": ["a/#/b"]}],
                            }
                        ]
                    },
                }
            ],
        },
    )
    output = refused(project)
    assert "the configuration has 6 problems" in output, output
    for expected in (
        "listeners[0].name: '1edge' is not a DNS-1035 label, and the listener's Service takes "
        "this name (serviceName is not given)",
        "listeners[1].serviceName: '9svc' is not a DNS-1035 label (a Kubernetes Service name)",
        "listeners[1].ports[0].tls.certManagerCertificateSpec.duration: '\u0667\u0662\u0660h' is not "
        "a duration",
        f"listeners[2].name: '{'n' * 59}... (64 characters) is not a DNS-1123 label",
        "authorizations[0].authorizationPolicies.rules[0].principals: names no principal",
        "authorizations[0].authorizationPolicies.rules[0].brokerResources[0].topics[0]: 'a/#/b' "
        "is not an MQTT topic filter",
    ):
        assert expected in output, output
