"""Service names are DNS-1035 labels (a letter first), which the API server checks when the
operator creates a listener's Service: refused before anything is registered, on every entry
point, while listeners that already exist (facts, not inputs) are taken as they are."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components import (
    ConfigError,
    MqListener,
    MqListenerArgs,
    MqListenerV1,
    MqListenerV1Args,
    declare_existing_listeners,
    declare_existing_listeners_v1,
)
from components import discovery as discovery_module
from components.config import RENDER_OVERRIDE_ENV
from components.errors import Problem, problems_from_validation
from components.package import MqListener as PackageListener
from components.package import MqListenerSet as PackageListenerSet
from components.stack import load_config
from components.v1.config import StackConfigV1
from components.v1.discovery import discover_existing_listeners_v1
from components.v1.models import ListenerPort
from tests.conftest import Engine
from tests.fake_cluster import aio_ga_install, ga_listener

GA = "mqttbroker.iotoperations.azure.com/v1"
RULE_FIX = (
    "use at most 63 lower-case letters, digits and '-', starting with a letter and ending with "
    "a letter or digit"
)


def ga(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "ports": [{"port": 1884}], **fields}


def problem_of(model: Any, item: dict[str, Any]) -> Problem:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(item)
    (problem,) = problems_from_validation(caught.value, model, "listeners[0]")
    return problem


@pytest.mark.parametrize("name", ["1edge", "0", "9-lives"])
def test_a_ga_listener_whose_service_takes_a_digit_first_name_is_refused_at_its_name(
    name: str,
) -> None:
    problem = problem_of(MqListenerV1Args, ga(name))
    assert problem.path == "listeners[0].name"
    assert problem.message == (
        f"{name!r} is not a DNS-1035 label, and the listener's Service takes this name "
        "(serviceName is not given)"
    )
    assert problem.fix == (
        f"give the listener a serviceName that starts with a letter (e.g. serviceName: "
        f"mq-{name}), or a name that does"
    )


def test_a_digit_first_ga_name_with_its_own_service_name_is_fine() -> None:
    args = MqListenerV1Args.model_validate(ga("1edge", serviceName="edge"))
    assert args.spec()["serviceName"] == "edge"


@pytest.mark.parametrize(
    ("model", "item"),
    [
        (MqListenerV1Args, ga("edge", serviceName="9svc")),
        (MqListenerArgs, {"name": "edge", "port": 1884, "serviceName": "9svc"}),
    ],
    ids=["ga", "preview"],
)
def test_a_digit_first_service_name_is_refused_by_both_apis(model: Any, item: Any) -> None:
    problem = problem_of(model, item)
    assert problem.path == "listeners[0].serviceName"
    assert problem.message == "'9svc' is not a DNS-1035 label (a Kubernetes Service name)"
    assert problem.fix == RULE_FIX


@pytest.mark.parametrize(
    ("model", "item"),
    [
        (MqListenerV1Args, ga("edge", serviceName="s" * 64)),
        (MqListenerArgs, {"name": "edge", "port": 1884, "serviceName": "s" * 64}),
    ],
    ids=["ga", "preview"],
)
def test_a_service_name_is_at_most_63_characters(model: Any, item: Any) -> None:
    assert "(64 characters)" in problem_of(model, item).message
    shortened = {**item, "serviceName": "s" * 63}
    assert model.model_validate(shortened).service_name == "s" * 63


def test_the_stack_file_reports_every_service_name_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"apiVersion": GA, "listeners": [ga("1a"), ga("b", serviceName="2b")]})
    assert [p.path for p in caught.value.problems] == [
        "listeners[0].name",
        "listeners[1].serviceName",
    ]
    with pytest.raises(ConfigError) as caught:
        load_config({"listeners": [{"name": "1a", "port": 1, "serviceName": "3c"}]})
    # the preview listener's name is no Service name: only serviceName is wrong
    assert [p.path for p in caught.value.problems] == ["listeners[0].serviceName"]


def test_a_python_composition_is_refused_before_registration(engine: Engine) -> None:
    with pytest.raises(ValidationError):
        MqListenerV1Args(name="1edge", ports=[ListenerPort(port=1)])

    def program() -> None:
        MqListenerV1("ok", ga("ok", serviceType="LoadBalancer"))
        MqListenerV1("1edge", ga("1edge"))

    with pytest.raises(ConfigError, match=r"name: '1edge' is not a DNS-1035 label"):
        engine.run(program)
    assert engine.mocks.registered == []


def test_a_preview_composition_is_refused_before_registration(engine: Engine) -> None:
    def program() -> None:
        MqListener("edge", {"name": "edge", "port": 1884, "serviceName": "9svc"})

    with pytest.raises(ConfigError, match=r"serviceName: '9svc' is not a DNS-1035 label"):
        engine.run(program)
    assert engine.mocks.registered == []


def test_the_component_package_refuses_it(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # The package takes the preview shape: a set of listeners, or one listener.
    monkeypatch.setenv(RENDER_OVERRIDE_ENV, "rendered/test")
    config = {
        "listeners": [{"name": "edge", "port": 1884, "serviceName": "9svc"}],
        "existingListeners": [{"name": "old", "port": 1, "serviceName": "8old"}],
    }
    with pytest.raises(ConfigError) as caught:
        engine.run(lambda: PackageListenerSet("set", config))  # type: ignore[arg-type]
    assert [p.path for p in caught.value.problems] == ["listeners[0].serviceName"]
    with pytest.raises(ConfigError, match=r"serviceName: '9svc' is not a DNS-1035 label"):
        engine.run(
            lambda: PackageListener("one", {"name": "one", "port": 1885, "serviceName": "9svc"})
        )
    assert engine.mocks.registered == []


# --- what exists is a fact -----------------------------------------------------------------


def test_existing_listeners_in_the_stack_file_are_taken_as_they_are() -> None:
    ga_stack = load_config(
        {
            "apiVersion": GA,
            "existingListeners": [
                ga("1legacy"),
                ga("old", serviceName="9old", serviceType="LoadBalancer", ports=[{"port": 1885}]),
            ],
            "listeners": [ga("edge", serviceType="NodePort", ports=[{"port": 1886}])],
        }
    )
    assert isinstance(ga_stack, StackConfigV1)
    assert [e.name for e in ga_stack.existing()] == ["1legacy", "old"]
    preview = load_config(
        {
            "existingListeners": [{"name": "old", "port": 1, "serviceName": "9old"}],
            "listeners": [{"name": "edge", "port": 1884}],
        }
    )
    assert preview.existing_listeners is not None
    assert preview.existing_listeners[0].service_name == "9old"


def test_existing_listeners_declared_in_python_are_taken_as_they_are(engine: Engine) -> None:
    def program() -> None:
        declare_existing_listeners_v1([ga("1legacy", ports=[{"port": 2000}])])
        declare_existing_listeners(
            [{"name": "old", "port": 1, "serviceName": "9old", "serviceType": "loadBalancer"}]
        )
        MqListenerV1("edge", ga("edge", serviceType="LoadBalancer"))
        MqListener("new", {"name": "new", "port": 1884})

    engine.run(program)
    assert "edge" in engine.mocks.ga_listeners


def test_a_discovered_listener_with_such_a_service_is_taken_as_it_is(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = ga_listener(aio_ga_install(), "1legacy", {"port": 2000}, serviceType="LoadBalancer")
    monkeypatch.setattr(discovery_module, "connect", lambda kubeconfig, context: cluster)

    def program() -> None:
        discover_existing_listeners_v1(also=[ga("2also", brokerRef="other")])
        MqListenerV1("edge", ga("edge", serviceType="NodePort", ports=[{"port": 2001}]))

    engine.run(program)
    assert list(engine.mocks.ga_listeners) == ["edge"]
