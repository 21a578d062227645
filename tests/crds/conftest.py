"""Offline checks of the Kubernetes manifests: CRD schemas, custom resources, RBAC, kind.

No API server can run here, so what the API server would do is reproduced as closely as is
practical:

* ``kubernetes-validate --strict`` checks CRDs and built-in objects against the Kubernetes
  OpenAPI schemas (unknown fields fail);
* :func:`structural_problems` checks the rules of a *structural* CRD schema that the API server
  enforces on top of that (every node typed, logical junctors carrying value validations only,
  no ``additionalProperties`` beside ``properties``, defaults that validate, well-formed
  list types ...);
* :func:`openapi_to_jsonschema` turns a CRD's ``openAPIV3Schema`` into a JSON Schema (draft
  2020-12) with which custom resources are validated, mapping the OpenAPI and ``x-kubernetes-*``
  extensions to what the API server does with them (``nullable``, ``x-kubernetes-int-or-string``,
  ``x-kubernetes-preserve-unknown-fields``, list types, boolean exclusive bounds, unknown fields
  rejected as by ``kubectl apply``'s strict field validation, ``date-time`` formats).

CEL rules (``x-kubernetes-validations``) cannot be evaluated offline: each one has a Python
mirror in :data:`CEL_MIRRORS` that is applied instead (transition rules, which need the old
object, are skipped). The CRDs keep their CEL rules few and simple.

Test modules cannot import this file, so everything is handed to them through fixtures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

REPO_ROOT = Path(__file__).resolve().parents[2]
GROUP = "incident-platform.io"
VERSION = "v1alpha1"

JSON = dict[str, Any]
# (dotted path, JSON-schema keyword, message) of one validation failure.
Violation = tuple[str, str, str]

# Keys of a CRD schema node this module understands. Anything else is an error: a key added to
# a CRD that the API server would treat in some way not mirrored here must fail loudly.
_VALUE_KEYS = {
    "enum",
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "multipleOf",
    "maxProperties",
    "minProperties",
    "required",
    "format",
}
_STRUCTURE_KEYS = {"type", "properties", "items", "additionalProperties", "nullable"}
_JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
_ANNOTATION_KEYS = {"description", "default", "example", "title"}
_K8S_KEYS = {
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
}
KNOWN_SCHEMA_KEYS = _VALUE_KEYS | _STRUCTURE_KEYS | set(_JUNCTORS) | _ANNOTATION_KEYS | _K8S_KEYS

SCALAR_TYPES = {"string", "integer", "number", "boolean"}
ALL_TYPES = SCALAR_TYPES | {"object", "array"}
# Formats whose meaning is mirrored here: date-time is validated; the numeric ones are hints.
SUPPORTED_FORMATS = {"date-time", "int32", "int64", "float", "double"}
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
# Regular-expression syntax Go's RE2 (the API server's engine) does not support.
_NON_RE2 = re.compile(r"\(\?[=!<]|\\[1-9]|\(\?P?<[A-Za-z]")

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

# What the API server validates in metadata of a custom resource (the CRD may not say more).
OBJECT_META_SCHEMA: JSON = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 253, "pattern": _DNS_SUBDOMAIN},
        "namespace": {"type": "string", "maxLength": 63, "pattern": _DNS_LABEL},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))  # range check
    return True


def _list_type(
    validator: Validator, list_type: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``x-kubernetes-list-type``: ``set`` items and ``map`` keys must be unique."""
    if not validator.is_type(instance, "array"):
        return
    if list_type == "set":
        keys = [json.dumps(item, sort_keys=True) for item in instance]
    elif list_type == "map":
        map_keys = schema.get("x-kubernetes-list-map-keys", [])
        keys = [
            json.dumps([item.get(k) for k in map_keys] if isinstance(item, dict) else item)
            for item in instance
        ]
    else:
        return
    seen: set[str] = set()
    for index, key in enumerate(keys):
        if key in seen:
            yield ValidationError(f"duplicate entry {key} at index {index} of a {list_type} list")
        seen.add(key)


# Python equivalents of the CEL rules (x-kubernetes-validations) in crds/, keyed by the rule's
# text with whitespace collapsed. CEL cannot be evaluated offline, so each rule is mirrored here
# and examples are checked against the mirror; a rule without a mirror fails the tests.
# Transition rules (those using oldSelf) need the previous object and are not checked offline.
CEL_MIRRORS: dict[str, Callable[[Any], bool]] = {
    "!has(self.repeat) || self.repeat == 0 || self.steps[0].delayMinutes > 0"
    " || self.steps[size(self.steps) - 1].delayMinutes > 0": lambda spec: (
        spec.get("repeat", 0) == 0
        or spec["steps"][0]["delayMinutes"] > 0
        or spec["steps"][-1]["delayMinutes"] > 0
    ),
}


def cel_text(rule: Mapping[str, Any]) -> str:
    return " ".join(str(rule.get("rule", "")).split())


def is_transition_rule(rule: Mapping[str, Any]) -> bool:
    return "oldSelf" in cel_text(rule)


def _cel_rules(
    validator: Validator, rules: list[Mapping[str, Any]], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    for rule in rules:
        if is_transition_rule(rule):
            continue
        mirror = CEL_MIRRORS.get(cel_text(rule))
        if mirror is None:
            yield ValidationError(f"CEL rule without a mirror in CEL_MIRRORS: {cel_text(rule)}")
            continue
        try:
            holds = mirror(instance)
        except (KeyError, IndexError, TypeError, AttributeError):
            continue  # the object is already invalid in a way the schema reports
        if not holds:
            yield ValidationError(" ".join(str(rule.get("message", cel_text(rule))).split()))


K8sValidator: type[Validator] = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    validators={"x-kubernetes-list-type": _list_type, "x-kubernetes-validations": _cel_rules},
)


def openapi_to_jsonschema(node: Mapping[str, Any], *, in_junctor: bool = False) -> JSON:
    """Translate one CRD ``openAPIV3Schema`` node (and its children) to JSON Schema 2020-12."""
    unknown = set(node) - KNOWN_SCHEMA_KEYS
    if unknown:
        raise ValueError(f"schema keys not handled by this converter: {sorted(unknown)}")
    out: JSON = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {
                name: openapi_to_jsonschema(child, in_junctor=in_junctor)
                for name, child in value.items()
            }
        elif key == "items":
            out[key] = openapi_to_jsonschema(value, in_junctor=in_junctor)
        elif key == "additionalProperties":
            out[key] = value if isinstance(value, bool) else openapi_to_jsonschema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [openapi_to_jsonschema(branch, in_junctor=True) for branch in value]
        elif key == "not":
            out[key] = openapi_to_jsonschema(value, in_junctor=True)
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            # OpenAPI 3.0 booleans modifying minimum/maximum; 2020-12 wants the bound itself.
            if value is True:
                out[key] = node["minimum" if key == "exclusiveMinimum" else "maximum"]
        elif key in ("minimum", "maximum") and node.get(f"exclusive{key.title()}") is True:
            pass  # turned into exclusiveMinimum / exclusiveMaximum
        elif key in _VALUE_KEYS or key.startswith("x-kubernetes-list-") or key == "default":
            out[key] = value
        elif key == "x-kubernetes-validations":
            out[key] = value  # evaluated through CEL_MIRRORS
        # type, nullable, int-or-string and preserve-unknown-fields are handled below;
        # descriptions, examples and map types do not change what validates.
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    elif "type" in node:
        out["type"] = [node["type"], "null"] if node.get("nullable") else node["type"]
    if node.get("nullable") and "enum" in out:
        out["enum"] = [*out["enum"], None]
    if (
        node.get("type") == "object"
        and not in_junctor
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        # The API server drops unknown fields; kubectl apply's strict field validation
        # (the default) refuses them. Mirror the latter.
        out["additionalProperties"] = False
    return out


def served_version(crd: Mapping[str, Any]) -> Mapping[str, Any]:
    versions: list[Mapping[str, Any]] = crd["spec"]["versions"]
    (version,) = [v for v in versions if v["name"] == VERSION]
    return version


def openapi_schema(crd: Mapping[str, Any]) -> JSON:
    schema: JSON = served_version(crd)["schema"]["openAPIV3Schema"]
    return schema


def resource_schema(crd: Mapping[str, Any]) -> JSON:
    """The JSON Schema a whole custom resource of this CRD must satisfy."""
    spec = crd["spec"]
    root = openapi_to_jsonschema(openapi_schema(crd))
    properties = root.setdefault("properties", {})
    properties["apiVersion"] = {"const": f"{spec['group']}/{VERSION}"}
    properties["kind"] = {"const": spec["names"]["kind"]}
    properties["metadata"] = OBJECT_META_SCHEMA
    root["required"] = sorted({*root.get("required", []), "apiVersion", "kind", "metadata"})
    return root


def dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def violations_of(validator: Validator, instance: Any) -> list[Violation]:
    """Every failure, located at the field it is about (a missing or unknown field's own path)."""
    found: list[Violation] = []
    for error in validator.iter_errors(instance):
        path = list(error.absolute_path)
        keyword = str(error.validator)
        names: list[str] = []
        if keyword == "required" and isinstance(error.instance, dict):
            required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
            names = [n for n in required if n not in error.instance]
        elif keyword == "additionalProperties" and isinstance(error.instance, dict):
            schema = error.schema if isinstance(error.schema, Mapping) else {}
            declared = schema.get("properties", {})
            names = sorted(n for n in error.instance if n not in declared)
        if names:
            found.extend((dotted([*path, name]), keyword, error.message) for name in names)
        else:
            found.append((dotted(path), keyword, error.message))
    return sorted(found)


def _conforms(value: Any, type_name: str) -> bool:
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    if type_name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _PYTHON_TYPES.get(type_name, (object,)))


def structural_problems(schema: Mapping[str, Any]) -> list[str]:
    """What the API server would refuse about a CRD's ``openAPIV3Schema`` (empty: fine)."""
    problems: list[str] = []

    def walk(
        node: Mapping[str, Any],
        where: str,
        *,
        in_junctor: bool = False,
        outer: Mapping[str, Any] | None = None,
    ) -> None:
        def problem(text: str) -> None:
            problems.append(f"{where or '<root>'}: {text}")

        if not isinstance(node, Mapping):
            problem("not a schema object")
            return
        unknown = set(node) - KNOWN_SCHEMA_KEYS
        if unknown:
            problem(f"keys not allowed or not mirrored by the tests: {sorted(unknown)}")
        type_name = node.get("type")
        int_or_string = bool(node.get("x-kubernetes-int-or-string"))
        preserve = bool(node.get("x-kubernetes-preserve-unknown-fields"))
        if in_junctor:
            forbidden = {"type", "description", "default", "additionalProperties", "nullable"}
            forbidden |= {k for k in node if k.startswith("x-kubernetes-")}
            for key in sorted(forbidden & set(node)):
                problem(f"{key} is not allowed inside allOf/anyOf/oneOf/not")
            for name in node.get("properties", {}):
                if outer is None or name not in outer.get("properties", {}):
                    problem(f"property {name!r} inside a junctor is not declared outside it")
            if "items" in node and (outer is None or "items" not in outer):
                problem("items inside a junctor without items outside it")
        else:
            if int_or_string and type_name is not None:
                problem("x-kubernetes-int-or-string must not also set a type")
            if type_name is None and not int_or_string and not preserve:
                problem("no type (a structural schema types every field)")
            if type_name is not None and type_name not in ALL_TYPES:
                problem(f"unknown type {type_name!r}")
        if "properties" in node and "additionalProperties" in node:
            problem("properties and additionalProperties are mutually exclusive")
        if type_name not in (None, "object") and (
            "properties" in node or "additionalProperties" in node
        ):
            problem(f"properties on a {type_name}")
        if type_name == "array" and "items" not in node:
            problem("an array must declare items")
        if type_name not in (None, "array") and "items" in node:
            problem(f"items on a {type_name}")
        declared = {**(outer or {}).get("properties", {}), **node.get("properties", {})}
        for name in node.get("required", []):
            if name not in declared:
                problem(f"required field {name!r} is not a declared property")
        for value in node.get("enum", []):
            if type_name and not _conforms(value, type_name):
                problem(f"enum value {value!r} is not a {type_name}")
        if "pattern" in node:
            try:
                re.compile(node["pattern"])
            except re.error as exc:
                problem(f"pattern does not compile: {exc}")
            if _NON_RE2.search(node["pattern"]):
                problem("pattern uses syntax RE2 does not support")
        if "format" in node and node["format"] not in SUPPORTED_FORMATS:
            problem(f"format {node['format']!r} is not one these tests mirror")
        if "format" in node and node["format"] == "date-time" and type_name != "string":
            problem("date-time format on a non-string")
        if "default" in node and not in_junctor:
            if node.get("x-kubernetes-int-or-string") is None and type_name is None:
                problem("default on an untyped field")
            validator = K8sValidator(openapi_to_jsonschema(node), format_checker=FORMAT_CHECKER)
            for error in validator.iter_errors(node["default"]):
                problem(f"default {node['default']!r} does not validate: {error.message}")
        list_type = node.get("x-kubernetes-list-type")
        if "x-kubernetes-list-map-keys" in node and list_type != "map":
            problem("x-kubernetes-list-map-keys without x-kubernetes-list-type: map")
        if list_type is not None:
            items = node.get("items", {})
            if type_name != "array":
                problem("x-kubernetes-list-type on a non-array")
            elif list_type == "set" and items.get("type") not in SCALAR_TYPES:
                problem("a set list must have scalar items")
            elif list_type == "map":
                keys = node.get("x-kubernetes-list-map-keys", [])
                item_props = items.get("properties", {})
                if items.get("type") != "object" or not keys:
                    problem("a map list needs object items and x-kubernetes-list-map-keys")
                for key in keys:
                    key_schema = item_props.get(key)
                    if key_schema is None or key_schema.get("type") not in SCALAR_TYPES:
                        problem(f"map key {key!r} must be a declared scalar property")
                    elif key not in items.get("required", []) and "default" not in key_schema:
                        problem(f"map key {key!r} must be required or have a default")
            elif list_type not in ("atomic", "set", "map"):
                problem(f"unknown x-kubernetes-list-type {list_type!r}")
        for rule in node.get("x-kubernetes-validations", []):
            if not isinstance(rule.get("rule"), str) or not rule["rule"].strip():
                problem("x-kubernetes-validations entry without a rule")
            elif not is_transition_rule(rule) and cel_text(rule) not in CEL_MIRRORS:
                problem(f"CEL rule without a Python mirror in CEL_MIRRORS: {cel_text(rule)}")
            if set(rule) - {"rule", "message", "messageExpression", "reason", "fieldPath"}:
                problem(f"unknown keys in x-kubernetes-validations: {sorted(rule)}")

        for name, child in node.get("properties", {}).items():
            child_outer = None
            if in_junctor and outer is not None:
                child_outer = outer.get("properties", {}).get(name)
            walk(
                child,
                f"{where}.{name}" if where else name,
                in_junctor=in_junctor,
                outer=child_outer,
            )
        if isinstance(node.get("items"), Mapping):
            items_outer = (outer or {}).get("items") if in_junctor else None
            walk(node["items"], f"{where}[]", in_junctor=in_junctor, outer=items_outer)
        if isinstance(node.get("additionalProperties"), Mapping):
            walk(node["additionalProperties"], f"{where}{{}}")
        for junctor in _JUNCTORS:
            branches = node.get(junctor)
            if branches is None:
                continue
            for index, branch in enumerate(branches if junctor != "not" else [branches]):
                walk(
                    branch,
                    f"{where}<{junctor}[{index}]>",
                    in_junctor=True,
                    outer=outer if in_junctor else node,
                )

    walk(schema, "")
    if schema.get("type") != "object":
        problems.append("<root>: the root of a CRD schema must be an object")
    metadata = schema.get("properties", {}).get("metadata")
    if metadata is not None and set(metadata) - {"type", "description"}:
        problems.append("metadata: a CRD may only declare metadata as type: object")
    return problems


def schema_at(schema: Mapping[str, Any], json_path: str) -> Mapping[str, Any] | None:
    """The schema node a simple printer-column JSONPath (``.a.b.c``) points to."""
    node: Mapping[str, Any] | None = schema
    for part in json_path.lstrip(".").split("."):
        if node is None:
            return None
        node = node.get("properties", {}).get(part)
    return node


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate mapping keys, as kubectl does."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=True) for key, _ in node.value]
        duplicates = sorted({str(k) for k in keys if keys.count(k) > 1})
        if duplicates:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate keys {duplicates}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


def load_docs(path: Path) -> list[JSON]:
    """The non-empty YAML documents of a file (duplicate keys are an error)."""
    return [doc for doc in yaml.load_all(path.read_text(), Loader=_UniqueKeyLoader) if doc]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def crds() -> dict[str, JSON]:
    """The CRDs in crds/, by kind."""
    found: dict[str, JSON] = {}
    for path in sorted((REPO_ROOT / "crds").glob("*.yaml")):
        for doc in load_docs(path):
            found[doc["spec"]["names"]["kind"]] = doc
    return found


@pytest.fixture(scope="session")
def validate_resource(crds: dict[str, JSON]) -> Callable[[Mapping[str, Any]], list[Violation]]:
    """Validate a custom resource against its CRD; returns the violations (empty: valid)."""
    validators: dict[str, Validator] = {}
    for kind, crd in crds.items():
        schema = resource_schema(crd)
        K8sValidator.check_schema(schema)
        validators[kind] = K8sValidator(schema, format_checker=FORMAT_CHECKER)

    def validate(resource: Mapping[str, Any]) -> list[Violation]:
        kind = resource.get("kind")
        if kind not in validators:
            return [("kind", "const", f"no CRD in crds/ for kind {kind!r}")]
        return violations_of(validators[kind], resource)

    return validate


@pytest.fixture(scope="session")
def check_structural() -> Callable[[Mapping[str, Any]], list[str]]:
    return structural_problems


@pytest.fixture(scope="session")
def convert_schema() -> Callable[[Mapping[str, Any]], JSON]:
    return openapi_to_jsonschema


@pytest.fixture(scope="session")
def schema_node() -> Callable[[Mapping[str, Any], str], Mapping[str, Any] | None]:
    return schema_at


@pytest.fixture(scope="session")
def yaml_docs() -> Callable[[Path], list[JSON]]:
    return load_docs
