"""Reading staff-edited YAML files and reporting their mistakes as file, key and reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a configuration file."""

    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"


class ConfigError(Exception):
    """A configuration file is wrong; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


try:  # libyaml's parser (PyYAML's wheels and Debian's package have it): ~9 times faster than PyYAML's own
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _Yaml12Loader(_SafeLoader):
    """A safe loader where only true/false are booleans (YAML 1.2), so `equals: no` stays text."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _timestamp_or_text(loader: _SafeLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML raises ValueError for a well-formed but impossible date (2026-02-30) while loading,
    # with no line; kept as text, the date is refused by validation, which names its key and why.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_Yaml12Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def read_yaml(path: Path) -> Any:
    """Reads one YAML file.

    Raises:
        ConfigError: when the file is missing, unreadable or not valid YAML (with the line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([Problem(str(path), "(file)", f"cannot be read: {err}")]) from None
    try:
        return yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        reason = getattr(err, "problem", None) or str(err)
        raise ConfigError([Problem(str(path), where, f"not valid YAML: {reason}")]) from None


_REASONS = {
    "extra_forbidden": "unknown key (a typo?)",
    "missing": "required but missing",
}


def describe_validation_errors(
    err: ValidationError, file: str, key_of: Callable[[tuple[int | str, ...]], str]
) -> list[Problem]:
    """Turns pydantic's errors into problems with keys staff can find in their file."""
    problems = []
    for error in err.errors(include_url=False):
        reason = _REASONS.get(error["type"], error["msg"])
        if error["type"] in ("datetime_from_date_parsing", "datetime_parsing") and isinstance(error["input"], str):
            why = error.get("ctx", {}).get("error", "not a date")
            reason = f"'{error['input']}' is not a real date and time ({why}); write e.g. 2026-05-29T17:30:00+02:00"
        problems.append(Problem(file, key_of(tuple(error["loc"])) or "(top)", reason))
    return problems
