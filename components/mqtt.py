"""The MQTT rules of a BrokerAuthorization, whatever its API version: what a topic filter is
(MQTT 5.0, section 4.7: topic names and topic filters) and that a rule names someone.

Both API packages build their authorization models from these, so the preview API and GA refuse
the same rules in the same words; only the key spellings differ (`clientids` / `clientIds`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from .errors import quote
from .spec import Spec

_MAX_TOPIC_BYTES = 65535
"""A topic filter is a UTF-8 string of the protocol: at most 65535 bytes (section 1.5.4)."""


def _is_topic_filter(value: str) -> bool:
    levels = value.split("/")
    return (
        value != ""  # at least one character (4.7.3)
        and "\x00" not in value  # no null character (4.7.3)
        and len(value.encode()) <= _MAX_TOPIC_BYTES
        and all(
            # '#' is a whole level and the last one; '+' a whole level (4.7.1)
            ("#" not in level or (level == "#" and i == len(levels) - 1))
            and ("+" not in level or level == "+")
            for i, level in enumerate(levels)
        )
    )


def check_topic_filter(value: str) -> str:
    if not _is_topic_filter(value):
        raise PydanticCustomError(
            "topic_filter",
            "{value} is not an MQTT topic filter",
            {
                "value": quote(value),
                "fix": "use '/'-separated levels; '+' stands for one whole level and '#' only "
                "for the whole last level (e.g. sensors/+/temperature, sensors/#)",
            },
        )
    return value


TopicFilter = Annotated[
    str,
    AfterValidator(check_topic_filter),
    # the same rule for editors (levels of '+', a last '#', or text without either)
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(?:(?:\+|[^/+#\u0000]*)/)*(?:\+|#|[^/+#\u0000]*)$",
            "minLength": 1,
        }
    ),
]
"""A topic filter of a rule; it may hold substitutions such as {principal.username}."""

AttributeMap = Annotated[dict[str, str], Field(min_length=1)]
"""Matches a client that has all of its key/value pairs: an empty map would match every client
while looking like a restriction."""

_MESSAGE_METHODS = ("Publish", "Subscribe")
"""Broker resource methods about messages, which need topics (lower camel: the GA API reads it)."""


class Principals(Spec):
    """Base of each API's principals, whose every field is one kind of principal (attributes
    last in the fix): a rule must name someone, since a rule for no client grants nothing."""

    @model_validator(mode="after")
    def _names_someone(self) -> Self:
        given = {f.alias or n: getattr(self, n) for n, f in type(self).model_fields.items()}
        if not any(given.values()):
            kinds = [key for key in given if key != "attributes"]
            raise PydanticCustomError(
                "no_principals",
                "names no principal, so the rule applies to no client",
                {"fix": f"list {', '.join(kinds)}, or attributes maps (e.g. - {{group: sensors}})"},
            )
        return self


class BrokerResource(Spec):
    """Base of each API's broker resource: Publish and Subscribe need topic filters."""

    if TYPE_CHECKING:  # declared by each API's model, in its own order and spelling
        method: str
        topics: Sequence[str] | None

    @model_validator(mode="after")
    def _topics_for_messages(self) -> Self:
        if self.method in _MESSAGE_METHODS and not self.topics:
            raise PydanticCustomError(
                "topics_required",
                "{method} needs topics",
                {
                    "method": self.method,
                    "fix": f"list the topic filters this rule allows to {self.method.lower()}, "
                    "e.g. topics: [sensors/{principal.username}/#]",
                },
            )
        return self

    @classmethod
    def extend_json_schema(cls, schema: dict[str, Any]) -> None:
        spellings = [*_MESSAGE_METHODS, *(m[0].lower() + m[1:] for m in _MESSAGE_METHODS)]
        schema["if"] = {"properties": {"method": {"enum": spellings}}}
        schema["then"] = {"required": ["topics"], "properties": {"topics": {"minItems": 1}}}
