"""Schemathesis against docs/openapi.yaml on a running dashboard: the tablet API and Open311.

Every operation of the file, with generated (and schema-violating) input: never a 5xx, every answer
as the file describes it, and every refusal in its door's own error format. The file must also list
every route the server has under /api/v1, /field/api and /open311/v2, so nothing escapes the fuzzing.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.dashboard.conftest import ROOT
from tests.dashboard.griddata import PASSWORD
from tests.system.hostile.conftest import bearer

SPEC = ROOT / "docs" / "openapi.yaml"
schema = schemathesis.openapi.from_path(SPEC)
# Bounded so the whole run takes about a minute on a busy two-core machine.
EXAMPLES = 15
SENT: dict[str, int] = {}


def door_format(path: str, status: int, body: bytes) -> str | None:
    """Why a refusal is not in its door's error format, or None when it is."""
    try:
        doc = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:80]!r}"
    if path.startswith("/open311/"):
        ok = (isinstance(doc, list) and len(doc) == 1 and doc[0].get("code") == status
              and isinstance(doc[0].get("description"), str) and doc[0]["description"].strip())
        return None if ok else f"not the GeoReport error list: {doc!r:.120}"
    ok = (isinstance(doc, dict) and doc.get("ok") is False and isinstance(doc.get("error"), str)
          and doc["error"].strip() and isinstance(doc.get("code"), str))
    return None if ok else f"not the tablet API's error body: {doc!r:.120}"


@pytest.fixture(scope="module")
def callers(server, api_key):
    """What each door needs to get past its login: a bearer token, a session with its CSRF token, a key."""
    s = requests.Session()
    page = s.get(server.base + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = s.post(server.base + "/login", data={"username": "worker1", "password": PASSWORD, "csrf_token": token},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303
    yield {"bearer": bearer(server), "session": s, "csrf": {"X-CSRFToken": s.cookies.get("_csrf_token", "")},
           "api_key": api_key}
    s.close()


def _exercise(case, server, callers, ingest) -> None:
    path = case.operation.path
    kwargs = {"base_url": server.base}
    if path == "/api/v1/token" and case.method == "DELETE":
        kwargs["headers"] = bearer(server)  # a token of its own: revoking the shared one would stop the rest
    elif path.startswith("/api/v1/") and path != "/api/v1/token":
        kwargs["headers"] = callers["bearer"]
    elif path.startswith("/field/api/"):
        kwargs["session"] = callers["session"]
        kwargs["headers"] = callers["csrf"]
    if path == "/open311/v2/requests.json" and case.method == "POST" and isinstance(case.body, dict):
        # The real key, so generated requests get past the key check and reach validation and the bus.
        case.body["api_key"] = callers["api_key"]
    response = case.call(**kwargs)
    SENT[f"{case.method} {path}"] = SENT.get(f"{case.method} {path}", 0) + 1
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance,
                                             status_code_conformance])
    if response.status_code >= 400:
        problem = door_format(path, response.status_code, response.content)
        assert problem is None, f"{case.method} {path} -> {response.status_code}: {problem}"
    assert ingest.alive(), "the ingest worker died"


@schema.exclude(path="/api/v1/token", method="POST").parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_holds_under_generated_input(case, server, callers, ingest):
    _exercise(case, server, callers, ingest)


# Each of these costs an argon2 verification and a slot of the login limit: a few suffice.
@schema.include(path="/api/v1/token", method="POST").parametrize()
@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_token_door_holds_under_generated_input(case, server, callers, ingest):
    _exercise(case, server, callers, ingest)


def _server_routes() -> set[tuple[str, str]]:
    """Every rule of the running app under the machine doors, in the OpenAPI path notation."""
    from dashboard import api, open311, routes  # noqa: F401 (the blueprints define the rules)
    import flask

    app = flask.Flask("routes-only")
    app.register_blueprint(routes.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(open311.bp)
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/v1", "/field/api", "/open311/v2")):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found.add((method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)))
    return found


def test_the_file_lists_every_route_of_the_tablet_api_and_open311():
    listed = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    # Open311's routes carry the format as a path parameter; the file names the JSON one.
    served = {(m, p.replace(".{fmt}", ".json").replace("{code}", "{service_code}").replace("{request_id}", "{id}")
               .replace("{incident_id}", "{id}"))
              for m, p in _server_routes()}
    assert served - listed == set(), f"routes missing from docs/openapi.yaml: {sorted(served - listed)}"
    assert listed - served == set(), f"operations in docs/openapi.yaml the server does not have: {sorted(listed - served)}"
    print(f"openapi: {len(listed)} operations, requests sent per operation: {SENT}")
