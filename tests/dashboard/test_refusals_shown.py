"""A refused action reads wholly in the user's language: the console's messages and the tablet API's JSON.

Against the real server (its own PostGIS database and Redis): nothing here is allowed, so nothing changes.
"""

from __future__ import annotations

import json
import re
import uuid

import psycopg
import pytest
import requests

from tests.dashboard.griddata import PASSWORD
from tests.dashboard.test_access import api_login, csrf

CROSS_BASE, OTHER_COMMUNITY_SUB = "440310001001001", "44031000100201"  # 六和社区 base grid, 和平社区 sub-grid


def _no_english(text: str) -> None:
    # Grid codes and worker codes are digits (W001 aside); any Latin word left is an untranslated fragment.
    assert "cannot" not in text and "Refused" not in text, text
    assert re.findall(r"[A-Za-z]{2,}", text) == [], text
    assert re.search(r"[\u4e00-\u9fff]", text), text


@pytest.fixture(scope="module")
def deps(browser, server):
    # Not admin1: test_access locks that account out on purpose (login rate limit) in the same session.
    ctx = api_login(browser, server, "disp1")
    yield ctx.request.get(server.base + "/_dash-dependencies").json()
    ctx.close()


def _session(browser, server, username: str, lang: str):
    ctx = api_login(browser, server, username)
    assert ctx.request.get(server.base + f"/lang/{lang}?next=/login", max_redirects=0).status == 303
    return ctx


def _callback(ctx, server, deps, first_output: str, inputs: list, state: list, changed: str) -> dict:
    """Call one Dash callback as the page would and return its outputs by component id."""
    dep = next(d for d in deps if d["output"].startswith(f"..{first_output}"))
    outputs = []
    for o in dep["output"].strip(".").split("..."):
        oid, prop = o.rsplit(".", 1)
        outputs.append({"id": oid, "property": prop.split("@")[0]})
    body = {"output": dep["output"], "outputs": outputs, "inputs": inputs, "state": state, "changedPropIds": [changed]}
    r = ctx.request.post(server.base + "/_dash-update-component", data=json.dumps(body),
                         headers={**csrf(ctx), "Content-Type": "application/json"})
    assert r.status == 200, r.text()
    return r.json()["response"]


def _close_task(ctx, server, deps, task_id: str) -> str:
    """The console's close button on a task that is still with its worker: refused by the table."""
    button = {"index": "close", "type": "console-action"}
    out = _callback(ctx, server, deps, "console-msg.children",
                    inputs=[[{"id": button, "property": "n_clicks", "value": 1}], [],
                            {"id": "console-ack-all", "property": "n_clicks", "value": 0}],
                    state=[{"id": "console-selected", "property": "data", "value": task_id},
                           {"id": "console-note", "property": "value", "value": None},
                           {"id": "console-worker", "property": "value", "value": None},
                           {"id": "console-done", "property": "data", "value": 0},
                           {"id": "console-alarm-seen", "property": "data", "value": None}],
                    changed=json.dumps(button, separators=(",", ":"), sort_keys=True) + ".n_clicks")
    return out["console-msg"]["children"]


def test_console_refusal_of_the_table_in_chinese_and_english(browser, server, deps, dash_db, ids):
    with psycopg.connect(dash_db[0]) as conn:
        before = conn.execute("SELECT status FROM incident WHERE id = %s", (ids["task"],)).fetchone()[0]
    zh_ctx, en_ctx = _session(browser, server, "disp1", "zh"), _session(browser, server, "disp1", "en")
    zh, en = _close_task(zh_ctx, server, deps, ids["task"]), _close_task(en_ctx, server, deps, ids["task"])
    zh_ctx.close()
    en_ctx.close()
    _no_english(zh)
    status_zh = {"dispatched": "已分拨", "accepted": "已接收"}[before]
    assert zh.startswith(f"操作被拒绝：事件当前为“{status_zh}”，不能“核查结案”：只能在已处置状态下进行。调度员在此状态下可以：")
    assert "重新分拨、取消、督办升级" in zh  # what the dispatcher may do instead, in its words
    assert en.startswith(f"Refused: cannot close an incident that is {before}: only allowed from resolved")
    assert "re-dispatch, cancel, escalate" in en and not re.search(r"[\u4e00-\u9fff]", en)
    with psycopg.connect(dash_db[0]) as conn:
        assert conn.execute("SELECT status FROM incident WHERE id = %s", (ids["task"],)).fetchone()[0] == before


def test_console_refuses_a_move_across_communities_in_chinese(browser, server, deps):
    ctx = _session(browser, server, "sup1", "zh")
    base = {"code": CROSS_BASE, "street_code": "440310001", "community_code": "440310001001",
            "sub_grid_code": "44031000100101"}
    out = _callback(ctx, server, deps, "console-move-msg.children",
                    inputs=[{"id": "console-move-preview", "property": "n_clicks", "value": 1},
                            {"id": "console-move-confirm", "property": "n_clicks", "value": 0}],
                    state=[{"id": "console-base", "property": "data", "value": base},
                           {"id": "console-move-target", "property": "value", "value": OTHER_COMMUNITY_SUB},
                           {"id": "console-move-reason", "property": "value", "value": None},
                           {"id": "console-done", "property": "data", "value": 0}],
                    changed="console-move-preview.n_clicks")
    ctx.close()
    text = out["console-move-msg"]["children"]
    assert text == (f"操作被拒绝：基础网格 {CROSS_BASE} 属于社区 440310001001，综治网格 {OTHER_COMMUNITY_SUB} 属于社区 "
                    "440310001002：基础网格不能跨社区调整")


def _return_without_reason(ctx, server, task_id: str):
    return ctx.request.post(server.base + "/field/api/action", headers=csrf(ctx), form={
        "event_id": str(uuid.uuid4()), "incident_id": task_id, "action": "return"})


def test_field_api_refusal_carries_code_params_and_the_sessions_language(browser, server, ids):
    zh_ctx, en_ctx = _session(browser, server, "worker1", "zh"), _session(browser, server, "worker1", "en")
    zh, en = _return_without_reason(zh_ctx, server, ids["task"]), _return_without_reason(en_ctx, server, ids["task"])
    assert zh.status == 409 and en.status == 409
    body_zh, body_en = zh.json(), en.json()
    zh_ctx.close()
    en_ctx.close()
    assert body_zh["ok"] is False and body_zh["code"] == body_en["code"] == "transition.needs_note"
    # The parameters are the raw values, the same in both languages, for an app that words it itself.
    assert body_zh["params"] == body_en["params"]
    assert body_zh["params"]["action"] == "return" and body_zh["params"]["role"] == "grid_worker"
    assert "return" in body_zh["params"]["allowed"]  # allowed, with a reason: the refusal says what is missing
    _no_english(body_zh["error"])
    assert "不能“退回”：需要在说明中填写原因。网格员在此状态下可以：" in body_zh["error"]
    assert body_en["error"].startswith("Refused: cannot return an incident that is ")
    assert "a reason (note) is required" in body_en["error"]


def test_bearer_api_refusal_has_the_same_shape(server, ids):
    token = requests.post(server.base + "/api/v1/token", data={"username": "worker1", "password": PASSWORD},
                          timeout=10).json()["token"]
    r = requests.post(server.base + "/api/v1/actions", headers={"Authorization": f"Bearer {token}"}, timeout=10,
                      data={"event_id": str(uuid.uuid4()), "incident_id": ids["task"], "action": "return"})
    assert r.status_code == 409
    body = r.json()
    assert (body["ok"], body["code"], body["params"]["action"]) == (False, "transition.needs_note", "return")
    _no_english(body["error"])  # no session: the server's default language, Chinese
    # An API client says which language it reads.
    r = requests.post(server.base + "/api/v1/actions", timeout=10,
                      headers={"Authorization": f"Bearer {token}", "Accept-Language": "en-GB,en;q=0.9"},
                      data={"event_id": str(uuid.uuid4()), "incident_id": ids["task"], "action": "return"})
    assert r.status_code == 409 and r.json()["code"] == "transition.needs_note"
    assert r.json()["error"].startswith("Refused") and not any("\u4e00" <= c <= "\u9fff" for c in r.json()["error"])
