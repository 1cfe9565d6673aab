"""What every aio-mq config object shares, whatever the API version: the `Spec` base (camelCase
keys, unknown keys refused, immutable), exactly-one-of objects, and the constrained strings and
numbers of Kubernetes, cert-manager and Azure, each with its own wording and fix.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Any, ClassVar, Literal, Self, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue, WithJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from .errors import quote

DEFAULT_NAMESPACE = "azure-iot-operations"
CERT_MANAGER_GROUP = "cert-manager.io"

IssuerKind = Literal["Issuer", "ClusterIssuer"]

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# A Service name: a DNS-1035 label, which unlike a DNS-1123 label starts with a letter.
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
# A SAN DNS entry may start with one wildcard label (e.g. *.example.com).
_SAN_DNS = re.compile(
    r"^(?=.{1,253}$)(\*\.)?[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$"
)
# Go's time.ParseDuration syntax, which cert-manager uses for duration and renewBefore (no
# sign: a negative lifetime is no certificate's). Digits are [0-9], never \d: Python's \d
# takes every script's digits, Go only ASCII ones.
_GO_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_GO_UNIT = r"(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h)"  # micro sign and Greek mu, as Go reads both
_GO_DURATION = re.compile(rf"^(?:{_GO_NUMBER}{_GO_UNIT})+$")
_GO_DURATION_PART = re.compile(rf"({_GO_NUMBER})({_GO_UNIT})")
_GO_UNIT_NS = {
    "ns": 1,
    "us": 10**3,
    "\u00b5s": 10**3,
    "\u03bcs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_GO_DURATION_MAX_NS = 2**63 - 1  # an int64 of nanoseconds: about 2562047h
_KEY_VAULT_NAME = re.compile(r"^(?!.*--)[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
_KEY_VAULT_VERSION = re.compile(r"^(latest|[0-9a-fA-F]{32})$")
_KEY_VAULT_OBJECT = re.compile(r"^[A-Za-z0-9-]{1,127}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class _Matching:
    """A string constraint with our own wording (pydantic's pattern error names no fix), that
    still shows up as a `pattern` in the JSON Schema for editors."""

    pattern: re.Pattern[str]
    """Anchored with ^ and $ for the JSON Schema; matched whole here, so that a trailing
    newline (which Python's $ lets through) is refused as the cluster refuses it."""
    error: str
    what: str
    fix: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(pattern=self.pattern.pattern, description=f"{self.what}: {self.fix}")
        return json_schema

    def matches(self, value: str) -> bool:
        return self.pattern.fullmatch(value) is not None

    def _check(self, value: str) -> str:
        if not self.matches(value):
            raise PydanticCustomError(
                self.error, "{value} is not " + self.what, {"value": quote(value), "fix": self.fix}
            )
        return value


def _lower_camel(value: str) -> str:
    return value[0].lower() + value[1:]


class PascalCase:
    """On a Literal of PascalCase values: also read the lower-camel spellings the API accepts,
    as their PascalCase form; the JSON Schema lists both, so an editor accepts what the API
    accepts."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        canonical = {_lower_camel(value): value for value in get_args(source)}

        def canonicalize(value: Any) -> Any:
            return canonical.get(value, value) if isinstance(value, str) else value

        return core_schema.no_info_before_validator_function(canonicalize, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        values = json_schema.get("enum") or [json_schema.get("const")]
        json_schema.pop("const", None)
        json_schema["enum"] = [*values, *(_lower_camel(v) for v in values)]
        return json_schema


def _check_ip(value: str) -> str:
    try:
        address = ipaddress.ip_address(value)
        # Python keeps an IPv6 zone ("fe80::1%eth0", any text); Go's net.ParseIP refuses one.
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
            raise ValueError(value)
        return str(address)
    except ValueError:
        raise PydanticCustomError(
            "ip_address",
            "{value} is not an IP address",
            {
                "value": quote(value),
                "fix": "write an IPv4 or IPv6 address such as 10.0.0.4 (digits 0-9, no %zone); DNS "
                "names go in san.dns",
            },
        ) from None


def _check_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise PydanticCustomError(
            "tcp_port",
            "{value} is not a TCP port",
            {"value": value, "fix": "use an integer from 1 to 65535"},
        )
    return value


def go_duration_nanoseconds(value: str) -> int:
    """Length of a Go duration string such as '720h' or '1h30m', in nanoseconds (Go truncates
    a fraction of a nanosecond, as here)."""
    return int(
        sum(
            Fraction(number) * _GO_UNIT_NS[unit]
            for number, unit in _GO_DURATION_PART.findall(value)
        )
    )


def go_duration_seconds(value: str) -> float:
    """Length of a Go duration string, in seconds."""
    return go_duration_nanoseconds(value) / 1e9


def _fits_go_duration(value: str) -> str:
    if go_duration_nanoseconds(value) > _GO_DURATION_MAX_NS:
        raise PydanticCustomError(
            "go_duration_overflow",
            "{value} is longer than a Go duration can hold (2562047h)",
            {
                "value": quote(value),
                "fix": "use at most 2562047h; certificates usually last 2160h (90 days) or "
                "8760h (a year)",
            },
        )
    return value


def _at_least(minimum: str, what: str, example: str) -> AfterValidator:
    """A duration no shorter than `minimum` (what names the rule in the message)."""
    floor = go_duration_nanoseconds(minimum)

    def check(value: str) -> str:
        if go_duration_nanoseconds(value) < floor:
            raise PydanticCustomError(
                "duration_minimum",
                "{value} is shorter than {what} of {minimum}",
                {
                    "value": quote(value),
                    "what": what,
                    "minimum": minimum,
                    "fix": f"use at least {minimum}, e.g. {example}",
                },
            )
        return value

    return AfterValidator(check)


Port = Annotated[
    StrictInt,
    AfterValidator(_check_port),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 65535}),
]
Dns1123Label = Annotated[
    str,
    _Matching(
        _DNS1123_LABEL,
        "dns1123_label",
        "a DNS-1123 label",
        "use at most 63 lower-case letters, digits and '-', "
        "starting and ending with a letter or digit",
    ),
]
SERVICE_NAME = _Matching(
    _DNS1035_LABEL,
    "dns1035_label",
    "a DNS-1035 label (a Kubernetes Service name)",
    "use at most 63 lower-case letters, digits and '-', starting with a letter and ending with "
    "a letter or digit",
)
ServiceName = Annotated[str, SERVICE_NAME]
"""What the API server takes as a Service's name, so what a listener's Service may be called."""
ResourceName = Annotated[
    str,
    _Matching(
        _DNS1123_SUBDOMAIN,
        "dns1123_subdomain",
        "a Kubernetes resource name (DNS-1123 subdomain)",
        "use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
    ),
]
SanDnsName = Annotated[
    str,
    _Matching(
        _SAN_DNS,
        "san_dns",
        "a DNS name",
        "write a host name such as mq.example.com or *.example.com; IP addresses go in san.ip",
    ),
]
IpAddress = Annotated[str, AfterValidator(_check_ip)]
GoDuration = Annotated[
    str,
    _Matching(
        _GO_DURATION,
        "go_duration",
        "a duration",
        "write a Go duration such as 720h, 90m or 1h30m (units h, m, s, ms, us, ns)",
    ),
    AfterValidator(_fits_go_duration),
]
CertificateDuration = Annotated[
    GoDuration, _at_least("1h", "cert-manager's minimum certificate duration", "720h")
]
RenewBefore = Annotated[GoDuration, _at_least("5m", "cert-manager's minimum renewBefore", "240h")]


def _check_https(value: str) -> str:
    parts = urlsplit(value)
    try:
        # Read, so that a port that is no number (or is 0) is refused; Python 3.11 reads ASCII
        # digits only here, as the broker does.
        bad_port = parts.port == 0
    except ValueError:
        bad_port = True
    if parts.scheme != "https" or not parts.hostname or bad_port:
        raise PydanticCustomError(
            "https_url",
            "{value} is not an https URL",
            {
                "value": repr(value),
                "fix": "write the auth server's address as https://host[:port][/path]; the "
                "broker sends credentials to it, so only https is accepted",
            },
        )
    return value


HttpsUrl = Annotated[
    str,
    AfterValidator(_check_https),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https://"}),
]


KeyVaultName = Annotated[
    str,
    _Matching(
        _KEY_VAULT_NAME,
        "key_vault_name",
        "an Azure Key Vault name",
        "use 3-24 letters, digits and '-' (never two in a row), starting with a letter and "
        "ending with a letter or digit",
    ),
]
KeyVaultObjectName = Annotated[
    str,
    _Matching(
        _KEY_VAULT_OBJECT,
        "key_vault_object",
        "an Azure Key Vault object name",
        "use 1-127 letters, digits and '-'",
    ),
]
KeyVaultObjectVersion = Annotated[
    str,
    _Matching(
        _KEY_VAULT_VERSION,
        "key_vault_version",
        "an Azure Key Vault object version",
        "write latest, or the 32 hexadecimal digits of a version",
    ),
]
ApiGroup = Annotated[
    str,
    _Matching(
        _DNS1123_SUBDOMAIN,
        "api_group",
        "a Kubernetes API group",
        "write the issuer's API group, e.g. cert-manager.io",
    ),
]
Guid = Annotated[
    str,
    _Matching(
        _GUID,
        "guid",
        "a GUID",
        "use the Entra tenant id, e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47",
    ),
]


class Spec(BaseModel):
    """Base of every config object: camelCase keys, unknown keys refused, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        use_attribute_docstrings=True,
        json_schema_extra=lambda schema, cls: cls.extend_json_schema(schema),
    )

    @classmethod
    def extend_json_schema(cls, schema: dict[str, Any]) -> None:
        """Add to this model's JSON Schema what its validators check beyond the fields."""

    def cr(self) -> dict[str, Any]:
        """This object as the custom resource spells it (excluded fields are not CR fields)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class OneOf(Spec):
    """A config object whose keys are alternatives: exactly one must be given.

    Checked around field validation rather than after it, so a second mode is reported in the
    same run as a problem inside the first one.
    """

    one_of: ClassVar[tuple[str, ...]]
    one_of_fix: ClassVar[str]

    @model_validator(mode="wrap")
    @classmethod
    def _exactly_one(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        error = None
        if isinstance(data, dict):
            given = [
                alias
                for alias in cls.one_of
                if data.get(alias, data.get(_to_snake(alias))) is not None
            ]
            if len(given) != 1:
                error = PydanticCustomError(
                    "one_of",
                    "needs exactly one of {choices}, found {found}",
                    {
                        "choices": ", ".join(cls.one_of),
                        "found": ", ".join(given) or "none",
                        "fix": cls.one_of_fix,
                    },
                )
        try:
            model = handler(data)
        except ValidationError as exc:
            if error is None:
                raise
            details = [*_as_init_details(exc), InitErrorDetails(type=error, loc=(), input=data)]
            raise ValidationError.from_exception_data(exc.title, details) from None
        if error is not None:
            raise error
        return model

    @classmethod
    def extend_json_schema(cls, schema: dict[str, Any]) -> None:
        schema["oneOf"] = [{"required": [alias]} for alias in cls.one_of]


def _to_snake(alias: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", alias).lower()


def _as_init_details(exc: ValidationError) -> list[InitErrorDetails]:
    """Errors of exc in the form that builds a new ValidationError, custom messages kept."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(err["type"], err["msg"], err.get("ctx")),
            loc=err["loc"],
            input=err["input"],
        )
        for err in exc.errors(include_url=False)
    ]
