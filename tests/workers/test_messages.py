"""Bus messages: valid examples parse, anything else raises InvalidMessage with a reason."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import redis as redis_lib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grid.lifecycle import Status
from grid.routing import Queue, Source
from geodata.bus import (DATA_FIELD, DEAD_STREAM, INCIDENT_STREAM, INGEST_GROUP, LIVE_CHANNEL, IncidentMessage,
                         InvalidMessage, LiveAnalysis, LiveCamera, LiveEarlyWarning, LiveIncident, LiveWarning,
                         LiveGridWorker, created_incident_json, dump_live, incident_message, parse_incident, parse_live,
                         publish_incident, publish_live)
from geodata.bus.messages import media_problem

EVENT = "7d0f3c2e-6f1a-4b8e-9c55-3f1e2a4b5c6d"
POINT = {"v": 1, "event_id": EVENT, "source": "open311", "matter": "HZ-01", "lon": 114.35, "lat": 22.70,
         "observed_at": "2024-05-01T09:30:00+08:00", "description": "broken manhole cover"}
CAMERA = {"v": 1, "event_id": EVENT, "source": "camera", "matter": "CR-03", "camera": "PS-CAM-0012",
          "foot": [0.42, 0.91], "observed_at": "2024-05-01T01:30:00Z", "description": "crowd gathering",
          "priority": 1, "media": ["snapshots/2024/05/01/abc.jpg", "https://cdn.example.org/clip.mp4"],
          "situation": {"id": "s-17", "phase": "start"}, "attributes": {"count": 42, "score": 0.93}}


def raw(obj) -> bytes:
    return json.dumps(obj).encode()


def test_names():
    assert (INCIDENT_STREAM, INGEST_GROUP, DEAD_STREAM, LIVE_CHANNEL) == (
        "gridwatch:incidents", "ingest", "gridwatch:incidents:dead", "gridwatch:live")


def test_point_message_parses():
    m = parse_incident(raw(POINT))
    assert m.event_id == uuid.UUID(EVENT)
    assert (m.source.value, m.matter, m.lon, m.lat, m.camera) == ("open311", "HZ-01", 114.35, 22.70, None)
    assert m.observed_at.utcoffset() == timedelta(hours=8)
    assert (m.media, m.attributes, m.priority, m.situation) == ([], {}, None, None)


def test_camera_message_parses():
    m = parse_incident(raw(CAMERA))
    assert (m.camera, m.foot, m.priority) == ("PS-CAM-0012", (0.42, 0.91), 1)
    assert m.observed_at == datetime(2024, 5, 1, 1, 30, tzinfo=timezone.utc)
    assert (m.situation.id, m.situation.phase.value) == ("s-17", "start")
    assert m.attributes["count"] == 42


def test_str_input_and_round_trip():
    m = parse_incident(json.dumps(CAMERA))
    assert parse_incident(m.model_dump_json().encode()) == m


@pytest.mark.parametrize(("change", "fragment"), [
    ({"v": 2}, "v: Input should be 1"),
    ({"event_id": "not-a-uuid"}, "event_id"),
    ({"source": "twitter"}, "source"),
    ({"matter": ""}, "matter"),
    ({"matter": "a b"}, "matter"),
    ({"lon": 181}, "lon"),
    ({"lat": -90.5}, "lat"),
    ({"lon": "114.3"}, "lon: Input should be a valid number"),
    ({"lon": None}, "lon and lat must be given together"),
    ({"camera": "C1"}, "either lon and lat or camera"),
    ({"foot": [0.5, 0.5]}, "foot is only meaningful with camera"),
    ({"observed_at": "2024-05-01T09:30:00"}, "observed_at: Input should have timezone info"),
    ({"observed_at": "yesterday"}, "observed_at"),
    ({"priority": 0}, "priority"),
    ({"priority": 4}, "priority"),
    ({"priority": True}, "priority"),
    ({"priority": "2"}, "priority"),
    ({"media": ["../etc/passwd"]}, "'..'"),
    ({"media": ["/etc/passwd"]}, "relative"),
    ({"media": ["file:///etc/passwd"]}, "http(s)"),
    ({"media": ["ftp://x.org/a.jpg"]}, "http(s)"),
    ({"media": ["a\\b.jpg"]}, "backslash"),
    ({"media": "a.jpg"}, "media"),
    ({"situation": {"id": "s", "phase": "start"}}, "situation is only for camera"),
    ({"attributes": []}, "attributes"),
    ({"extra": 1}, "extra: Extra inputs are not permitted"),
    ({"description": "x" * 4001}, "description"),
])
def test_invalid_point_messages_name_the_problem(change, fragment):
    with pytest.raises(InvalidMessage) as info:
        parse_incident(raw({**POINT, **change}))
    assert fragment in info.value.reason
    assert str(info.value) == info.value.reason


@pytest.mark.parametrize(("change", "fragment"), [
    ({"foot": [1.2, 0.5]}, "foot"),
    ({"foot": [0.5]}, "foot"),
    ({"situation": {"id": "s", "phase": "middle"}}, "situation.phase"),
    ({"situation": {"id": "", "phase": "end"}}, "situation.id"),
    ({"lon": 114.3, "lat": 22.7}, "either lon and lat or camera"),
])
def test_invalid_camera_messages_name_the_problem(change, fragment):
    with pytest.raises(InvalidMessage, match=None) as info:
        parse_incident(raw({**CAMERA, **change}))
    assert fragment in info.value.reason


@pytest.mark.parametrize(("data", "fragment"), [
    (b"", "Invalid JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "Input should be an object"),
    (b"null", "Input should be an object"),
    (b"{" * 5000, "Invalid JSON"),
    (b'{"lon": NaN}', "finite"),
    (b" " * (64 * 1024 + 1), "more than"),
])
def test_garbage_is_refused_with_reason(data, fragment):
    with pytest.raises(InvalidMessage) as info:
        parse_incident(data)
    assert fragment in info.value.reason


def test_missing_fields_are_listed():
    with pytest.raises(InvalidMessage) as info:
        parse_incident(b"{}")
    for name in ("v", "event_id", "source", "matter", "observed_at"):
        assert f"{name}: Field required" in info.value.reason


@pytest.mark.parametrize(("ref", "ok"), [
    ("a.jpg", True), ("2024/05/a b.jpg", True), ("http://x.org/a.jpg", True), ("https://x.org/a", True),
    ("", False), ("https://", False), ("/a.jpg", False), ("a/../b.jpg", False), ("C:/a.jpg", False),
    ("javascript:alert(1)", False), ("a\x00b", False),
])
def test_media_problem(ref, ok):
    assert (media_problem(ref) is None) is ok


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_field_values = {
    "v": st.sampled_from([1, 2, "1", None]),
    "event_id": st.sampled_from([EVENT, "x", 1]) | st.uuids().map(str),
    "source": st.sampled_from(["camera", "open311", "grid_worker", "appeal", "analysis", "other", 3]),
    "matter": st.text(max_size=8),
    "lon": st.floats(-200, 200) | st.none() | st.text(max_size=3),
    "lat": st.floats(-100, 100) | st.none(),
    "camera": st.text(max_size=8) | st.none(),
    "foot": st.lists(st.floats(-1, 2), max_size=3) | st.none(),
    "observed_at": st.datetimes(timezones=st.none() | st.just(timezone.utc)).map(lambda d: d.isoformat())
    | st.text(max_size=10),
    "priority": st.integers(-1, 5) | st.booleans() | st.none(),
    "media": st.lists(st.text(max_size=12), max_size=3),
    "situation": _json,
    "attributes": _json,
    "zzz": _json,
}
_messages = st.fixed_dictionaries({}, optional=_field_values)


def _outcome(data):
    try:
        return parse_incident(data)
    except InvalidMessage as exc:
        assert exc.reason.strip()
        return exc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_fuzzed_bytes_never_crash(data):
    assert isinstance(_outcome(data), (IncidentMessage, InvalidMessage))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test_fuzzed_json_never_crashes(value):
    out = _outcome(json.dumps(value).encode())
    assert isinstance(out, InvalidMessage)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_messages)
def test_fuzzed_message_shapes_never_crash(message):
    out = _outcome(json.dumps(message, allow_nan=True).encode())
    assert isinstance(out, (IncidentMessage, InvalidMessage))
    if isinstance(out, IncidentMessage):
        # Whatever got through holds the invariants the ingest worker relies on.
        assert (out.lon is None) == (out.lat is None) == (out.camera is not None)
        assert out.observed_at.utcoffset() is not None


AT = "2024-05-01T09:30:00+08:00"


@pytest.mark.parametrize("message", [
    LiveIncident(at=AT, id=EVENT, action="dispatch", status="dispatched", matter_code="HZ-01", priority=2,
                 lon=114.35, lat=22.7, queue="worker", worker_code="W1"),
    LiveWarning(at=AT, incident_id=EVENT, kind="overdue", level="community"),
    LiveCamera(at=AT, code="PS-CAM-0012", health="offline", problem="frozen"),
    LiveGridWorker(at=AT, code="W1", on_duty=True, lon=114.3, lat=22.7),
    LiveEarlyWarning(at=AT, id=7, kind="repeat", status="case_made", matter_code="HZ-01", area_level="point",
                     area_code="S1", lon=114.3, lat=22.7, details={"count": 3, "first_at": AT}, score=3.0,
                     incident_id=EVENT),
    LiveAnalysis(at=AT, run_id=12, computed_at=AT, seconds=1.25, new_warnings=2),
])
def test_live_messages_round_trip_by_type(message):
    text = dump_live(message)
    assert json.loads(text)["type"] == message.type
    assert parse_live(text) == message


def test_live_reader_ignores_unknown_fields_but_not_unknown_types():
    text = json.loads(dump_live(LiveGridWorker(at=AT, code="W1", on_duty=False)))
    assert parse_live(json.dumps({**text, "battery": 0.3})).code == "W1"
    with pytest.raises(InvalidMessage, match="type"):
        parse_live(json.dumps({**text, "type": "weather"}))


@pytest.mark.parametrize("fields", [
    {"actor": "W1", "status": Status.DISPATCHED, "queue": Queue.WORKER, "worker_code": "W1",
     "base_grid_code": "B1", "sub_grid_code": "S1", "community_code": "C1", "street_code": "ST1", "outside": False,
     "due_at": datetime(2024, 5, 1, 5, 30, 0, 123456, tzinfo=timezone.utc)},
    {"actor": "camera", "status": Status.REPORTED, "queue": Queue.DISTRICT, "worker_code": None,
     "base_grid_code": None, "sub_grid_code": None, "community_code": None, "street_code": None, "outside": True,
     "due_at": None},
], ids=["dispatched", "outside"])
def test_the_fast_created_message_is_the_live_incident_it_announces(fields):
    common = {"at": datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=8))), "id": uuid.UUID(EVENT),
              "matter_code": "HZ-01", "priority": 2, "lon": 114.35, "lat": 22.7}
    text = created_incident_json(**common, **fields)
    model = LiveIncident(**common, **fields, action="create", level="grid", report_count=1, event_id=common["id"])
    assert parse_live(text) == model
    assert list(json.loads(text)) == list(json.loads(dump_live(model)))


def test_published_messages_arrive_in_order(redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    sub = client.pubsub(ignore_subscribe_messages=True)
    sub.subscribe(LIVE_CHANNEL)
    sub.get_message(timeout=1)
    msgs = [LiveGridWorker(at=AT, code=f"W{i}", on_duty=True) for i in range(5)]
    assert publish_live(client, msgs[:1]) == 1
    # A batch goes in one script call; a restarted Redis has forgotten the script, and it is loaded again.
    client.script_flush()
    assert publish_live(client, [*msgs[1:3], dump_live(msgs[3]), msgs[4]]) == 4
    got = []
    while len(got) < 5:
        m = sub.get_message(timeout=5)
        assert m is not None, f"only {len(got)} of 5 messages arrived"
        got.append(parse_live(m["data"]).code)
    assert got == ["W0", "W1", "W2", "W3", "W4"]
    sub.close()


def test_the_stream_drops_finished_entries_only(redis_url):
    from geodata.bus import stream

    client = redis_lib.Redis.from_url(redis_url)
    stream.ensure_group(client)
    ids = [client.xadd(INCIDENT_STREAM, {"data": b"{}"}) for _ in range(10)]
    delivered = stream.read_new(client, "c1", 6, 100)
    assert [e.id for e in delivered] == ids[:6]
    stream.ack(client, [ids[0], ids[1], ids[3]])  # ids[2], ids[4], ids[5] stay pending
    # Younger than the retention: nothing goes.
    assert stream.trim_finished(client, keep_s=3600, exact=True) == 0
    assert stream.trim_finished(client, keep_s=0, exact=True) == 2
    left = [entry_id for entry_id, _ in client.xrange(INCIDENT_STREAM)]
    assert left == ids[2:]
    # Acknowledging the oldest pending one lets the next trim go up to the next pending one.
    stream.ack(client, [ids[2]])
    assert stream.trim_finished(client, keep_s=0, exact=True) == 2
    assert [entry_id for entry_id, _ in client.xrange(INCIDENT_STREAM)] == ids[4:]
    assert client.xpending(INCIDENT_STREAM, INGEST_GROUP)["pending"] == 2


def test_publish_incident_writes_what_the_door_reads(redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    msg = parse_incident(raw(CAMERA))
    entry_id = publish_incident(client, msg)
    (got_id, fields), = client.xrange(INCIDENT_STREAM)
    assert got_id == entry_id and list(fields) == [DATA_FIELD.encode()]
    assert parse_incident(fields[DATA_FIELD.encode()]) == msg
    # On a pipeline it is one more command of the same round trip; the id comes with execute().
    with client.pipeline(transaction=False) as pipe:
        assert publish_incident(pipe, parse_incident(raw(POINT))) is None
        pipe.hset("gridwatch:test:health", "health", "online")
        replies = pipe.execute()
    assert client.xrange(INCIDENT_STREAM)[-1][0] == replies[0]
    assert client.xlen(INCIDENT_STREAM) == 2


@pytest.mark.parametrize("bad, fragment", [
    # Never validated: model_construct skips the model's checks, the door does not.
    (IncidentMessage.model_construct(**{**dict(parse_incident(raw(POINT))), "camera": "PS-CAM-0012"}), "exactly one"),
    (parse_incident(raw(POINT)).model_copy(update={"description": "x" * (70 * 1024)}), "bytes"),
], ids=["both-places", "too-big"])
def test_publish_incident_refuses_what_ingest_would_dead_letter(redis_url, bad, fragment):
    client = redis_lib.Redis.from_url(redis_url)
    with pytest.raises(InvalidMessage, match=fragment):
        publish_incident(client, bad)
    with pytest.raises(TypeError, match="IncidentMessage"):
        publish_incident(client, POINT)
    assert client.xlen(INCIDENT_STREAM) == 0


def test_incident_message_from_python_values_gives_the_doors_reason():
    ok = incident_message(v=1, event_id=uuid.UUID(EVENT), source=Source.OPEN311, matter="HZ-01", lon=114.35, lat=22.7,
                          observed_at=datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc))
    assert ok == parse_incident(ok.model_dump_json())
    with pytest.raises(InvalidMessage, match="lon and lat must be given together"):
        incident_message(v=1, event_id=uuid.UUID(EVENT), source=Source.OPEN311, matter="HZ-01", lon=114.35,
                         observed_at=datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc))
