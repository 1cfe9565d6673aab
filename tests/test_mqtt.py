"""The MQTT rules both APIs share (components/mqtt.py): topic filters and principals, checked
the same way, with the same words, whichever API a BrokerAuthorization is written for."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter
from pydantic_core import PydanticCustomError

from components import ConfigError
from components.errors import Problem
from components.mqtt import TopicFilter, check_topic_filter
from components.stack import load_config

GA = "mqttbroker.iotoperations.azure.com/v1"


def rules(client_ids: str) -> list[dict[str, Any]]:
    """Rules with every shape problem the MQTT spec defines; `client_ids` is the API's key."""
    return [
        {
            "principals": {},
            "brokerResources": [
                {"method": "Publish", "topics": ["sensors/#/temperature"]},
                {"method": "Subscribe", "topics": ["sensors/a+/b", "ok/+/fine", "#"]},
                {"method": "Subscribe", "topics": ["sensors/##"]},
                {"method": "Publish", "topics": [""]},
                {"method": "Subscribe"},
            ],
        },
        {
            "principals": {client_ids: [], "usernames": [], "attributes": []},
            "brokerResources": [{"method": "Connect"}],
        },
        {
            "principals": {"attributes": [{}]},
            "brokerResources": [
                {"method": "Publish", "topics": ["sensors/{principal.username}/#"]}
            ],
        },
    ]


def refused(config: dict[str, Any]) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    return caught.value.problems


PREVIEW = {
    "listeners": [],
    "authorizations": [
        {
            "name": "z",
            "listenerRef": ["listener"],
            "authorizationPolicies": {"rules": rules("clientids")},
        }
    ],
}
GA_CONFIG = {
    "apiVersion": GA,
    "listeners": [],
    "authorizations": [{"name": "z", "authorizationPolicies": {"rules": rules("clientIds")}}],
}
AT = "authorizations[0].authorizationPolicies.rules"
TOPIC_FIX = (
    "use '/'-separated levels; '+' stands for one whole level and '#' only for the whole last "
    "level (e.g. sensors/+/temperature, sensors/#)"
)


@pytest.mark.parametrize("config", [PREVIEW, GA_CONFIG], ids=["preview", "ga"])
def test_bad_topic_filters_and_principals_are_refused_by_both_apis(
    config: dict[str, Any],
) -> None:
    found = {(p.path, p.message, p.fix) for p in refused(config)}
    # the principals' key for client ids is spelled by each API
    key = "clientids" if "apiVersion" not in config else "clientIds"
    assert found == {
        (
            f"{AT}[0].principals",
            "names no principal, so the rule applies to no client",
            f"list {key}, usernames, or attributes maps (e.g. - {{group: sensors}})",
        ),
        (
            f"{AT}[0].brokerResources[0].topics[0]",
            "'sensors/#/temperature' is not an MQTT topic filter",
            TOPIC_FIX,
        ),
        (
            f"{AT}[0].brokerResources[1].topics[0]",
            "'sensors/a+/b' is not an MQTT topic filter",
            TOPIC_FIX,
        ),
        (
            f"{AT}[0].brokerResources[2].topics[0]",
            "'sensors/##' is not an MQTT topic filter",
            TOPIC_FIX,
        ),
        (f"{AT}[0].brokerResources[3].topics[0]", "'' is not an MQTT topic filter", TOPIC_FIX),
        (
            f"{AT}[0].brokerResources[4]",
            "Subscribe needs topics",
            "list the topic filters this rule allows to subscribe, e.g. topics: "
            "[sensors/{principal.username}/#]",
        ),
        (
            f"{AT}[1].principals",
            "names no principal, so the rule applies to no client",
            f"list {key}, usernames, or attributes maps (e.g. - {{group: sensors}})",
        ),
        (
            f"{AT}[2].principals.attributes[0]",
            "is empty; at least one entry is needed",
            "add an entry here",
        ),
    }


def test_the_same_good_rules_pass_both_apis() -> None:
    good = [
        {
            "principals": {"usernames": ["u"], "attributes": [{"group": "sensors"}]},
            "brokerResources": [
                {"method": "Connect"},
                {"method": "Subscribe", "topics": ["+", "#", "a/+/b/#", "{principal.username}/+"]},
            ],
        }
    ]
    preview = load_config(
        {
            "listeners": [],
            "authorizations": [
                {"name": "z", "listenerRef": ["l"], "authorizationPolicies": {"rules": good}}
            ],
        }
    )
    ga = load_config(
        {
            "apiVersion": GA,
            "listeners": [],
            "authorizations": [{"name": "z", "authorizationPolicies": {"rules": good}}],
        }
    )
    assert preview.authorizations[0].spec()["authorizationPolicies"]["rules"][0]["brokerResources"]
    assert ga.authorizations[0].spec()["authorizationPolicies"]["rules"][0]["principals"] == {
        "attributes": [{"group": "sensors"}],
        "clientIds": [],
        "usernames": ["u"],
    }


@pytest.mark.parametrize(
    "topic",
    ["#", "+", "a/b", "a/+/b/#", "/a", "a//b", "{principal.attributes.floor}/+", "é" * 32767],
)
def test_topic_filters_mqtt_accepts(topic: str) -> None:
    assert check_topic_filter(topic) == topic


@pytest.mark.parametrize(
    "topic",
    ["", "a#", "#/a", "a/#/", "a+", "+a/b", "a/+b", "a/\x00/b", "é" * 32768],
    ids=["empty", "a#", "#-not-last", "#-then-empty", "a+", "+a", "+b", "null", "too-long"],
)
def test_topic_filters_mqtt_refuses(topic: str) -> None:
    with pytest.raises(PydanticCustomError, match="is not an MQTT topic filter"):
        check_topic_filter(topic)


@given(st.text(alphabet="ab/+#\x00", max_size=12))
def test_the_schema_pattern_agrees_with_the_check(topic: str) -> None:
    # Editors get the topic-filter rule as a JSON Schema pattern: it must say what the check says.
    schema = TypeAdapter(TopicFilter).json_schema()
    by_schema = len(topic) >= schema["minLength"] and re.search(schema["pattern"], topic)
    try:
        check_topic_filter(topic)
        by_check = True
    except PydanticCustomError:
        by_check = False
    assert bool(by_schema) == by_check
