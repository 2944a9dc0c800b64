"""``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` read the way the Pulumi CLI reads them.

The CLI parses both files with a YAML 1.2 parser (Go's ``yaml.v3``), not YAML 1.1 as PyYAML does, and
stores every stack config value as a string:

* a scalar is passed to the program as it is written: ``yes`` stays the string ``"yes"`` (YAML 1.1 would
  read ``true``), ``.nan`` stays ``".nan"``, ``010`` stays ``"010"``, ``2024-01-01`` stays a string;
* a list or a map is passed as JSON, built from YAML 1.2 values (``yes`` is a string there too, and a
  non-finite number cannot be written as JSON, so the CLI refuses it);
* ``{secure: <ciphertext>}`` is a secret, decrypted by the CLI with the stack's secrets provider.

The project file's ``config`` block declares each project key with ``type`` (``string``, ``integer``,
``boolean`` or ``array`` with ``items``), ``description`` and ``default``. The CLI applies a declared
default when a stack does not set the key, and checks stack values against the declared type; this
module gives the offline tools and the program the same declarations (one list of keys).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

CONFIG_TYPES: Final = frozenset({"string", "integer", "boolean", "array"})
"""Types a project config declaration may have (the Pulumi project file schema)."""
DECLARATION_ATTRIBUTES: Final = frozenset({"type", "description", "default", "secret", "items", "value"})


class ProjectFileError(ValueError):
    """``Pulumi.yaml`` or a stack file cannot be read as the Pulumi CLI would; the message names the file."""


class SecretConfigError(ProjectFileError):
    """A stack file holds ``secure:`` values, which only the Pulumi CLI can decrypt."""

    def __init__(self, path: Path, keys: list[str]) -> None:
        self.keys = keys
        named = ", ".join(f"'{key}'" for key in keys)
        super().__init__(
            f"config {named} in {path.name} is a secret (secure:), which cannot be read offline: run the real "
            "`pulumi preview` (it decrypts secrets with the stack's secrets provider), or give the key a plain "
            "value in a stack file used only offline"
        )


# ---- YAML 1.2 as Go's yaml.v3 resolves plain scalars ----------------------------------------------

_NULL: Final = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL: Final = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
# Underscores are dropped first; "0777" is octal as well as "0o777" (yaml.v3 keeps YAML 1.1's octals).
_INT: Final = re.compile(r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*)$")
_FLOAT: Final = re.compile(
    r"^(?:[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


# libyaml's parser when PyYAML has it (ten times faster than PyYAML's own); the scalar rules below apply to either.
try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # a PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader


class Yaml12Loader(_SafeLoader):
    """PyYAML's safe loader with YAML 1.2 core-schema scalars, as ``yaml.v3`` resolves them.

    Only ``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off`` are strings), timestamps are
    strings, and ``.inf``/``.nan`` are floats.
    """

    yaml_implicit_resolvers: dict[Any, Any] = {}


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    if len(digits) > 1 and digits.startswith("0"):
        return sign * int(digits, 8)
    return sign * int(digits)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    if text.endswith(".nan"):
        return math.nan
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    return float(text)


Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""])
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789"))
Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load_yaml(text: str) -> Any:
    """Parse a YAML document with :class:`Yaml12Loader`."""
    return yaml.load(text, Loader=Yaml12Loader)


# ---- stack files ---------------------------------------------------------------------------------


def qualify(key: str, project: str) -> str:
    """``project:key`` for a key written without a namespace, as the CLI qualifies it."""
    return key if ":" in key else f"{project}:{key}"


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _holds_secure(value: Any) -> bool:
    if _is_secure(value):
        return True
    if isinstance(value, dict):
        return any(_holds_secure(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_secure(item) for item in value)
    return False


def engine_value(value: Any) -> str:
    """A config value as the engine hands it to the program: scalars as text, lists and maps as JSON.

    Raises
    ------
    ValueError
        For a non-finite number inside a list or map (JSON cannot hold it).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def read_stack_config(path: Path, project: str, *, secret_placeholder: str | None = None) -> dict[str, str]:
    """Read ``Pulumi.<stack>.yaml`` into the engine's config map (fully qualified keys, string values).

    Parameters
    ----------
    path:
        The stack file.
    project:
        The project name, the namespace of keys written without one.
    secret_placeholder:
        What a ``secure:`` value reads as; by default such a value is refused.

    Raises
    ------
    SecretConfigError
        When a value is (or holds) ``secure:`` and no placeholder is given: only the CLI can decrypt it.
    ProjectFileError
        When the file is not YAML, or a list or map holds a number JSON cannot represent.
    """
    try:
        document = yaml.compose(path.read_text(), Loader=Yaml12Loader)
    except yaml.YAMLError as error:
        raise ProjectFileError(f"{path.name} is not valid YAML: {error}") from error
    config_node = None
    if isinstance(document, yaml.MappingNode):
        config_node = next((value for key, value in document.value if key.value == "config"), None)
    if config_node is None or (isinstance(config_node, yaml.ScalarNode) and _NULL.match(config_node.value)):
        return {}
    if not isinstance(config_node, yaml.MappingNode):
        raise ProjectFileError(f"{path.name}: 'config' must be a map of keys to values")

    constructor = Yaml12Loader("")
    config: dict[str, str] = {}
    secrets: list[str] = []
    for key_node, value_node in config_node.value:
        key = qualify(str(key_node.value), project)
        if isinstance(value_node, yaml.ScalarNode):
            # The CLI keeps a scalar's text: "yes", ".nan" and "010" reach the program as written.
            config[key] = "" if value_node.tag == "tag:yaml.org,2002:null" else str(value_node.value)
            continue
        value = constructor.construct_document(value_node)
        if _holds_secure(value):
            if secret_placeholder is not None:
                config[key] = secret_placeholder
            else:
                secrets.append(key)
            continue
        try:
            config[key] = engine_value(value)
        except ValueError as error:
            raise ProjectFileError(
                f"config '{key}' in {path.name} holds a non-finite number (.nan or .inf), which the Pulumi CLI "
                "cannot store"
            ) from error
    if secrets:
        raise SecretConfigError(path, secrets)
    return config


# ---- the project file's config block --------------------------------------------------------------


@dataclass(frozen=True)
class ConfigDeclaration:
    """One project config key declared in ``Pulumi.yaml``.

    Attributes
    ----------
    key:
        The key without its namespace, e.g. ``logRetentionDays``.
    type:
        ``string``, ``integer``, ``boolean`` or ``array``.
    description:
        What the key sets.
    default:
        The value the CLI uses when a stack does not set the key (as parsed from YAML).
    items:
        Item type of an ``array``.
    """

    key: str
    type: str
    description: str
    default: Any
    items: str | None = None

    @property
    def default_text(self) -> str:
        """The default as the engine passes it to the program."""
        return engine_value(self.default)


def _type_matches(type_name: str, items: str | None, value: Any) -> bool:
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "boolean":
        return isinstance(value, bool)
    return isinstance(value, list) and all(_type_matches(items or "", None, item) for item in value)


def read_config_declarations(project_file: Path) -> dict[str, ConfigDeclaration]:
    """The project keys declared in ``Pulumi.yaml``'s ``config`` block, checked as the CLI checks them.

    Every declaration must have a ``type`` the CLI knows, ``items`` for an ``array``, a ``description``
    and a ``default`` of its type (a key without a default would be required in every stack).

    Raises
    ------
    ProjectFileError
        Naming the key and what is wrong with its declaration.
    """
    document = load_yaml(project_file.read_text()) or {}
    project = str(document.get("name", ""))
    block = document.get("config") or {}
    if not isinstance(block, Mapping):
        raise ProjectFileError(f"{project_file.name}: 'config' must be a map of declarations")
    declarations: dict[str, ConfigDeclaration] = {}
    for raw_key, spec in block.items():
        key = str(raw_key)
        namespace, _, name = key.rpartition(":")
        if namespace not in ("", project):
            continue  # a provider value (e.g. aws:region: {value: ...}), not a project key
        where = f"{project_file.name}: config '{project}:{name}'"
        if not isinstance(spec, Mapping):
            raise ProjectFileError(f"{where}: declare it with type, description and default")
        unknown = sorted(set(spec) - DECLARATION_ATTRIBUTES)
        if unknown:
            raise ProjectFileError(f"{where}: unknown attribute(s) {', '.join(unknown)}")
        type_name = spec.get("type")
        if type_name not in CONFIG_TYPES:
            raise ProjectFileError(f"{where}: type must be one of {', '.join(sorted(CONFIG_TYPES))}")
        items_spec = spec.get("items")
        items = items_spec.get("type") if isinstance(items_spec, Mapping) else None
        if type_name == "array" and items not in CONFIG_TYPES - {"array"}:
            raise ProjectFileError(f"{where}: an array declares its item type (items: {{type: string}})")
        if not spec.get("description"):
            raise ProjectFileError(f"{where}: needs a description")
        if "default" not in spec:
            raise ProjectFileError(f"{where}: needs a default (without one the CLI requires it in every stack)")
        if not _type_matches(type_name, items, spec["default"]):
            raise ProjectFileError(f"{where}: default {spec['default']!r} is not of type {type_name}")
        declarations[name] = ConfigDeclaration(
            key=name, type=type_name, description=str(spec["description"]), default=spec["default"], items=items
        )
    return declarations


def project_config_defaults(project_file: Path) -> dict[str, str]:
    """What the CLI adds to a stack's config from ``Pulumi.yaml`` for keys the stack does not set.

    A project key's ``default`` (or a shorthand ``key: value``), and a provider key's ``value``; fully
    qualified keys, values as the engine passes them.
    """
    document = load_yaml(project_file.read_text()) or {}
    project = str(document.get("name", ""))
    block = document.get("config")
    defaults: dict[str, str] = {}
    if not isinstance(block, Mapping):
        return defaults
    for raw_key, spec in block.items():
        key = qualify(str(raw_key), project)
        is_project_key = key.startswith(f"{project}:")
        if isinstance(spec, Mapping):
            attribute = "default" if is_project_key else "value"
            if attribute in spec:
                defaults[key] = engine_value(spec[attribute])
        elif spec is not None:
            defaults[key] = engine_value(spec)
    return defaults


def project_name(project_file: Path) -> str:
    """The ``name`` in ``Pulumi.yaml``."""
    return str((load_yaml(project_file.read_text()) or {})["name"])
