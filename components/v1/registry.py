"""The GA API's listener rules as a program's registry applies them (components/registry.py), and
how a composition declares the GA listeners that already exist."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..registry import ListenerRules, parse_items, program_listeners
from ..spec import DEFAULT_NAMESPACE
from .models import API_VERSION, DEFAULT_BROKER, ExistingListenerV1
from .sharing import ListenerIndex, assumed_existing, existing_facts

GA_RULES = ListenerRules(
    API_VERSION,
    lambda: ListenerIndex().add,
    # Without declared ones: the `default` listener, unless the first listener is it.
    lambda first: (existing_facts(assumed_existing([first])), []),
)


def declare_existing_listeners_v1(
    listeners: Iterable[ExistingListenerV1 | Mapping[str, Any]],
    namespace: str = DEFAULT_NAMESPACE,
    broker_ref: str = DEFAULT_BROKER,
) -> None:
    """The same for the GA API's `MqListenerV1`s; items take the GA listener shape. Without it
    the listener Azure IoT Operations installs (`default`, aio-broker:18883, ClusterIp) is
    assumed, unless the first MqListenerV1 is that listener (the program then manages it).
    """
    parsed = parse_items(
        listeners, ExistingListenerV1, "existingListeners", "declare_existing_listeners_v1"
    )
    program_listeners().declare_existing(
        existing_facts(parsed, namespace, broker_ref), rules=GA_RULES
    )
