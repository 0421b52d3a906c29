"""Assertion helper for grid.refusals: a refusal carries its code and exactly the parameters that code declares."""

from __future__ import annotations

import json

from grid.refusals import PARAMS, Code, Refusal


def assert_refusal(exc: BaseException, code: Code, **expected) -> dict:
    """`exc` is a Refusal of `code` whose params are the declared set, JSON-ready, with `expected` values."""
    assert isinstance(exc, Refusal), type(exc)
    assert exc.code is code, (exc.code, str(exc))
    # Every declared parameter is there (a UI may name any of them) and nothing undeclared rides along.
    assert set(exc.params) == set(PARAMS[code]), (code, sorted(exc.params))
    assert json.loads(json.dumps(exc.params)) == exc.params  # the tablet API sends them as they are
    for name, value in expected.items():
        assert exc.params[name] == value, (name, exc.params[name])
    return exc.params
