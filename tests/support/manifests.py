"""A small good manifest, written to a folder, and the error loading one raises."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from proxy.errors import ConfigError
from proxy.registry import load_registry

GOOD = """
name: tiny
title: Tiny
base_url: http://127.0.0.1:9
credentials:
  main: {header: X-Api-Key, secret: api_key}
resources:
  widget:
    tags: [widgets]
    methods:
      get:
        http: GET /widgets/{id}
        description: One widget.
        path:
          id: {type: integer}
"""


def write(
    tmp_path: Path, text: str, name: str = "tiny", extra: dict[str, str] | None = None
) -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.yaml").write_text(textwrap.dedent(text))
    for file, body in (extra or {}).items():
        (folder / file).write_text(textwrap.dedent(body))
    return tmp_path


def error_of(tmp_path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_registry([tmp_path])
    return info.value
