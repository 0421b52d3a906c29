"""Named SQL queries kept in geodata/queries/*.sql, each introduced by a `-- name: NAME` line."""

from __future__ import annotations

import functools
import re
from importlib import resources

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


@functools.cache
def all_queries() -> dict[str, str]:
    """Every named query of every file; names are unique across files."""
    found: dict[str, str] = {}
    for entry in sorted(resources.files("geodata.queries").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        text = entry.read_text(encoding="utf-8")
        parts = _HEADER.split(text)
        # parts = [preamble, name1, body1, name2, body2, ...]
        for name, body in zip(parts[1::2], parts[2::2]):
            if name in found:
                raise ValueError(f"query {name!r} is defined twice (second time in {entry.name})")
            found[name] = body.strip().rstrip(";")
    return found


def q(name: str) -> str:
    """The SQL text of one named query."""
    try:
        return all_queries()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in geodata/queries") from None
