"""The worker's side of the live view on real Redis: frames only while watched, about one a second,
privacy applied, one frame deep, written by the main thread under the camera's key."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import redis as redis_lib

from geodata import camera_frames
from video.media import Privacy
from workers.camera_live import LiveRelay, LiveTap


def frame(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (270, 480, 3), np.uint8)


def counting_privacy() -> tuple[Privacy, list]:
    calls = []

    def finder(img):
        calls.append(img.shape)
        return np.zeros((0, 4), np.float32)

    return Privacy("faces", face_finder=finder), calls


def test_a_tap_encodes_only_while_watched_and_once_a_second_with_privacy():
    privacy, calls = counting_privacy()
    tap = LiveTap(privacy, every_s=1.0)
    for i in range(10):  # 2 s at 5 fps, nobody watching
        tap.feed(frame(i), i * 0.2, 1000.0 + i * 0.2, None)
    assert tap.latest is None and calls == []
    tap.wanted.set()
    for i in range(10, 26):  # 3.2 s watched: frames at t = 2.0, 3.0, 4.0, 5.0
        tap.feed(frame(i), i * 0.2, 1000.0 + i * 0.2, None)
    assert tap.latest.seq == 4 and len(calls) == 4
    assert tap.latest.captured_at == pytest.approx(1000.0 + 5.0)
    img = cv2.imdecode(np.frombuffer(tap.latest.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (270, 480, 3)


def test_the_tracked_peoples_heads_are_blurred_in_live_frames():
    img = np.zeros((200, 200, 3), np.uint8)
    img[::2, ::2] = 255  # fine detail a blur removes
    tap = LiveTap(Privacy("tracks"))
    tap.wanted.set()
    tap.feed(img, 0.0, 1.0, np.array([[0.25, 0.1, 0.75, 0.9]], np.float32))
    out = cv2.imdecode(np.frombuffer(tap.latest.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    head = out[25:60, 60:140].astype(float)
    feet = out[150:175, 5:45].astype(float)  # outside the person: untouched
    assert head.std() < 40 < feet.std()


@pytest.fixture
def client(redis_url):
    c = redis_lib.Redis.from_url(redis_url)
    yield c
    c.close()


def runner(code: str, gen: int = 1):
    privacy, _ = counting_privacy()
    return SimpleNamespace(gen=gen, live=LiveTap(privacy))


def test_the_relay_follows_watch_keys_and_writes_each_new_frame_once(client):
    relay = LiveRelay(client, "W1", poll_s=0.0)
    runners = {"CAM-A": runner("CAM-A"), "CAM-B": runner("CAM-B")}
    relay.tick(runners)
    assert not runners["CAM-A"].live.wanted.is_set()
    started = camera_frames.watch(client, "CAM-A", now=500.0)
    assert started == 500.0 and camera_frames.watch(client, "CAM-A", now=503.0) == 500.0  # the first viewer's start
    relay.tick(runners)
    assert runners["CAM-A"].live.wanted.is_set() and not runners["CAM-B"].live.wanted.is_set()
    runners["CAM-A"].live.feed(frame(), 0.0, 777.5, None)
    relay.tick(runners)
    got = camera_frames.latest_frame(client, "CAM-A")
    assert (got.seq, got.captured_at, got.worker) == (1, 777.5, "W1") and got.jpeg.startswith(b"\xff\xd8")
    assert camera_frames.latest_frame(client, "CAM-B") is None
    assert 0 < client.ttl(camera_frames.FRAME_KEY.format(code="CAM-A")) <= camera_frames.FRAME_TTL_S
    client.delete(camera_frames.FRAME_KEY.format(code="CAM-A"))
    relay.tick(runners)  # the same frame is not written again
    assert camera_frames.latest_frame(client, "CAM-A") is None
    client.delete(camera_frames.WATCH_KEY.format(code="CAM-A"))
    relay.tick(runners)
    assert not runners["CAM-A"].live.wanted.is_set()


def test_stored_frames_are_bounded_and_checked(client):
    with pytest.raises(camera_frames.BadFrame):
        camera_frames.put_frame(client, "CAM-A", camera_frames.LiveFrame(1, 1.0, "W", b"\xff\xd8" + b"0" * 1_000_001))
    with pytest.raises(camera_frames.BadFrame):
        camera_frames.put_frame(client, "CAM-A", camera_frames.LiveFrame(1, 1.0, "W", b"<html>"))
    client.hset(camera_frames.FRAME_KEY.format(code="CAM-A"), mapping={"v": 9, "seq": 1, "captured_at": 1, "jpeg": b"x"})
    with pytest.raises(camera_frames.BadFrame):
        camera_frames.latest_frame(client, "CAM-A")
    with pytest.raises(ValueError):
        camera_frames.watch(client, "../etc")
    assert camera_frames.watched(client, ["../etc", "CAM-Z"]) == set()
