"""Situation media: privacy blur from tracks (faces on request), snapshots with evidence drawn, ring buffer,
VP8 clips, retention."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from video import media
from video.config import ConfigError, parse_config
from video.media import FrameRing, MediaRecorder, Privacy, blur_regions, media_names, purge, snapshot_jpeg

WALL = datetime(2024, 5, 1, 1, 30, tzinfo=timezone.utc)


def textured(h=180, w=320, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.resize(rng.integers(0, 255, (h // 4, w // 4, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)


def detail(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_32F).var())


def test_blur_regions_destroys_detail_only_inside_the_box():
    img = textured()
    out = blur_regions(img.copy(), np.array([[100, 40, 160, 100]]), grow=0.0)
    assert detail(out[40:100, 100:160]) < 0.05 * detail(img[40:100, 100:160])
    assert np.array_equal(out[:, :95], img[:, :95])


class CountingFaces:
    """A face finder that counts its calls and reports fixed boxes."""

    def __init__(self, boxes=()):
        self.calls = 0
        self.boxes = np.array(boxes, np.int32).reshape(-1, 4)

    def __call__(self, frame):
        self.calls += 1
        return self.boxes


def test_snapshot_blurs_faces_before_drawing_evidence():
    img = textured()
    faces = CountingFaces([[200, 20, 240, 60]])
    jpg = snapshot_jpeg(img, box=(0.1, 0.2, 0.4, 0.9), polygon=[[0.05, 0.05], [0.95, 0.05], [0.95, 0.95]],
                        label="PS-CAM-0001 intrusion", privacy=Privacy("faces", faces))
    assert faces.calls == 1
    out = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)
    assert out.shape == img.shape
    assert detail(out[25:55, 205:235]) < 0.1 * detail(img[25:55, 205:235])
    # The red box is drawn at x = 0.1 * 320.
    assert out[100, 32, 2] > 180 and out[100, 32, 0] < 90
    kept = snapshot_jpeg(img, privacy=Privacy("off", faces))
    assert faces.calls == 1
    back = cv2.imdecode(np.frombuffer(kept, np.uint8), cv2.IMREAD_COLOR)
    assert detail(back[25:55, 205:235]) > 0.5 * detail(img[25:55, 205:235])


def test_a_real_face_is_found_and_blurred(shared_dir):
    cap = cv2.VideoCapture(str(shared_dir / "video" / "indoor-people-one-by-one.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 1275)
    ok, frame = cap.read()
    assert ok
    faces = media.find_faces(frame)
    assert len(faces) >= 1
    clean = media.anonymise(frame)
    assert len(media.find_faces(clean)) < len(faces)


def test_privacy_blurs_the_heads_of_tracked_people_and_nothing_else():
    img = textured()
    faces = CountingFaces([[0, 0, 40, 40]])
    person = np.array([[0.25, 0.2, 0.5, 0.9]], np.float32)  # x 80-160, y 36-162 of 320x180
    out = Privacy("tracks", faces).apply(img, person)
    assert faces.calls == 0
    assert out is not img and np.array_equal(img, textured())  # the frame itself is never changed
    head = (slice(36, 36 + int(0.35 * 126)), slice(80, 160))
    assert detail(out[head]) < 0.05 * detail(img[head])
    # Outside the head region, grown by a fifth each side, not a pixel changes: the body stays evidence.
    grown = np.zeros(img.shape[:2], bool)
    grown[36 - 9:36 + 44 + 10, 80 - 16:160 + 17] = True
    assert np.array_equal(out[~grown], img[~grown])
    assert np.array_equal(out[100:, :], img[100:, :])
    assert np.array_equal(Privacy("tracks", faces).apply(img, np.zeros((0, 4))), img)
    assert np.array_equal(Privacy("off", faces).apply(img, person), img)
    assert faces.calls == 0
    assert detail(Privacy("faces", faces).apply(img)[0:40, 0:40]) < 0.05 * detail(img[0:40, 0:40])
    assert faces.calls == 1


def test_privacy_is_a_camera_setting_with_tracks_by_default():
    base = {"code": "PS-CAM-0001", "url": "x.mp4", "lon": 114.35, "lat": 22.7}
    assert parse_config(base).privacy == "tracks"
    assert parse_config(dict(base, privacy="faces")).privacy == "faces"
    with pytest.raises(ConfigError, match="privacy"):
        parse_config(dict(base, privacy="heads"))
    with pytest.raises(ValueError, match="privacy must be one of tracks, faces, off"):
        Privacy("heads")


def read_clip(path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            return frames
        frames.append(f)


def test_clip_frames_are_blurred_where_the_tracks_are_without_any_face_search(tmp_path):
    faces = CountingFaces([[0, 0, 40, 40]])
    rec = MediaRecorder(tmp_path, "PS-CAM-0001", fps=5.0, pre_s=2.0, post_s=2.0, privacy=Privacy(face_finder=faces))
    img = textured()
    person = np.array([[0.25, 0.2, 0.5, 0.9]], np.float32)
    head = (slice(40, 76), slice(84, 156))
    for i in range(32):
        # Nobody for the clip's first 1.4 s (frames 10-16), then the person the tracker holds.
        rec.feed(img, i / 5, person if i >= 17 else None)
        if i == 20:
            paths = rec.start("s1", i / 5, WALL, tuple(person[0]), None, "intrusion", person=True)
    assert faces.calls == 0
    frames = read_clip(tmp_path / paths[1])
    assert len(frames) >= 20
    # Frames more than a second from any tracked person are untouched; those within a second of one are
    # blurred where the nearest frame's person is (the tracker picks people up a few frames late).
    sharp, filled, blurred = frames[:2], frames[2:7], frames[-5:]
    for f in filled:
        assert detail(f[head]) < 0.1 * detail(img[head])
    for f in sharp:
        assert detail(f[head]) > 0.5 * detail(img[head])
        assert np.abs(f.astype(int) - img).mean() < 12  # untouched but for VP8's own loss
    for f in blurred:
        assert detail(f[head]) < 0.1 * detail(img[head])
        # Outside the head region the picture is what the frame without anyone gave.
        assert np.abs(f[100:].astype(int) - sharp[0][100:]).mean() < 3
    snap = cv2.imread(str(tmp_path / paths[0]))
    assert detail(snap[head]) < 0.1 * detail(img[head])


def test_the_pipeline_hands_out_the_people_it_tracks():
    from video.pipeline import CameraPipeline
    from video.synthetic import build

    scene = build("walk_through", 1, "drawn")
    pipe = CameraPipeline(scene.config)
    seen = 0
    for frame, t in scene.frames():
        if t > 12:
            break
        pipe.feed(frame, t)
        truth = [scene.box(a, t) for a in scene.actors if scene.box(a, t) is not None]
        for box in pipe.people:
            assert 0.0 <= box.min() and box.max() <= 1.0
        if len(pipe.people) and truth:
            cx, cy = (pipe.people[:, 0] + pipe.people[:, 2]) / 2, (pipe.people[:, 1] + pipe.people[:, 3]) / 2
            x1, y1, x2, y2 = truth[0]
            seen += bool(((cx > x1) & (cx < x2) & (cy > y1) & (cy < y2)).any())
    assert seen >= 10


def test_ring_keeps_the_last_seconds():
    ring = FrameRing(seconds=2.0, fps=5.0)
    for i in range(30):
        ring.append(np.full((4, 4, 3), i, np.uint8), i / 5)
    assert len(ring.frames) == 11
    assert [int(f[0, 0, 0]) for _, f, _ in ring.since(5.4)] == [27, 28, 29]
    assert ring.nbytes() == 11 * 48


@pytest.mark.parametrize("camera, situation, ok", [
    ("PS-CAM-0001", "ab12", True), ("../etc", "ab12", False), ("PS-CAM-0001", "a/b", False), ("", "x", False),
])
def test_media_names_are_server_chosen_and_safe(camera, situation, ok):
    if ok:
        snap, clip = media_names(camera, situation, WALL)
        assert snap == "camera/PS-CAM-0001/20240501/ab12.jpg" and clip.endswith("ab12.webm")
    else:
        with pytest.raises(ValueError):
            media_names(camera, situation, WALL)


def test_recorder_writes_snapshot_now_and_clip_from_before_to_after(tmp_path):
    rec = MediaRecorder(tmp_path, "PS-CAM-0001", fps=5.0, pre_s=2.0, post_s=2.0)
    written = []
    for i in range(40):
        t = i / 5
        frame = textured(seed=i)
        written += rec.feed(frame, t)
        if i == 20:
            paths = rec.start("s1", t, WALL, (0.2, 0.2, 0.5, 0.9), None, "intrusion", person=True)
    assert paths == ["camera/PS-CAM-0001/20240501/s1.jpg", "camera/PS-CAM-0001/20240501/s1.webm"]
    assert written == [paths[1]]
    assert cv2.imread(str(tmp_path / paths[0])) is not None
    cap = cv2.VideoCapture(str(tmp_path / paths[1]))
    n = 0
    while cap.read()[0]:
        n += 1
    # 2 s before (ring holds 11 frames, 10 of them within 2 s + the start) and 2 s after, at 5 fps.
    assert 19 <= n <= 22, n
    assert (tmp_path / paths[1]).read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM/Matroska file
    assert not list(tmp_path.rglob("*.part.*"))


def test_purge_removes_only_old_camera_media(tmp_path):
    old = tmp_path / "camera" / "PS-CAM-0001" / "20240101" / "a.jpg"
    new = tmp_path / "camera" / "PS-CAM-0001" / "20240501" / "b.webm"
    upload = tmp_path / "uploads" / "c.jpg"
    for p in (old, new, upload):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x" * 10)
    past = time.time() - 40 * 86400
    os.utime(old, (past, past))
    os.utime(upload, (past, past))
    result = purge(tmp_path, timedelta(days=30))
    assert (result.files, result.bytes) == (1, 10)
    assert not old.exists() and not old.parent.exists()
    assert new.exists() and upload.exists()


def test_media_purge_cli(tmp_path, monkeypatch, capsys):
    from workers.cli import main

    old = tmp_path / "camera" / "X" / "20240101" / "a.jpg"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"123")
    past = time.time() - 3 * 86400
    os.utime(old, (past, past))
    monkeypatch.setenv("GRIDWATCH_MEDIA_DIR", str(tmp_path))
    assert main(["media", "purge", "--days", "5"]) == 0
    assert old.exists()
    assert main(["media", "purge", "--days", "2"]) == 0
    assert not old.exists()
    assert "purged 1 file(s), 3 bytes" in capsys.readouterr().out
