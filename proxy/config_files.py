"""yamcp's YAML files read into checked models, with one way of refusing them.

Manifests, the accounts file, policies and OAuth clients all load through here: a YAML
mistake says where and what kind, never the text around it (it may be a secret), and a
model's first problem becomes `file: path.to.key: reason`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError

# libyaml's loader where PyYAML was built with it (its wheels are): the same data as the
# pure-Python SafeLoader, about 8x faster on the manifests and on large OpenAPI documents.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Strict(BaseModel):
    """A model of a config file: unknown keys refused, values frozen once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


_YAML_PROBLEMS = {
    "ScannerError": "a token the scanner cannot read (a tab, an unclosed quote, a stray ':')",
    "ParserError": "a structure the parser cannot follow (indentation, brackets)",
    "ComposerError": "an alias (*name) with no anchor (&name), or several documents",
    "ConstructorError": "a tag or value that cannot be loaded safely",
    "ReaderError": "a character that may not appear in YAML",
}


def read_yaml(file: Path) -> Any:
    try:
        with file.open("rb") as fh:
            return yaml.load(fh, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        # Only where and what kind of mistake: PyYAML's own message quotes the text around
        # it (`found undefined alias 'sk-...'`), and that text may be a secret.
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = _YAML_PROBLEMS.get(type(exc).__name__, "a syntax error")
        raise ConfigError(str(file), where, f"not valid YAML: {problem}") from None
    except OSError as exc:
        raise ConfigError(str(file), "", exc.strerror or str(exc)) from None


def validate_model(model: type[BaseModel], data: Any, file: str) -> Any:
    """Validate `data` against `model`, turning the first error into a ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown key"
        elif err["type"] == "literal_error":
            reason = f"{err['msg']} (got {err['input']!r})"
        raise ConfigError(file, _loc(err["loc"]), reason) from None
