"""Frame sources: URL redaction, backoff, file sampling and looping, MJPEG over HTTP, RTSP reconnect."""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.video import clips
from video.sources import Backoff, FrameSource, redact
from workers.services import free_port

RTSP_SERVER = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.mark.parametrize("url, expected", [
    ("rtsp://admin:s3cret@10.0.0.5:554/stream1", "rtsp://***@10.0.0.5:554/stream1"),
    ("rtsp://user@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
    ("http://cam.local/video.mjpg?user=a&password=xyz&fps=5", "http://cam.local/video.mjpg?user=a&password=***&fps=5"),
    ("https://h/x?token=abc;key=def", "https://h/x?token=***;key=***"),
    ("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1"),
    ("/data/clips/gate.mp4", "/data/clips/gate.mp4"),
])
def test_redact_hides_credentials(url, expected):
    assert redact(url) == expected
    assert "s3cret" not in redact(url) and "xyz" not in redact(url)


def test_backoff_grows_to_its_cap_and_resets():
    b = Backoff(initial=0.5, factor=2.0, cap=4.0, jitter=0.0)
    assert [b.delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    b.reset()
    assert b.delay() == 0.5



@pytest.fixture(scope="session")
def scene_mp4(tmp_path_factory) -> Path:
    """A 20 s H.264 street scene, 480x270 at 5 fps."""
    return clips.scene_clip(tmp_path_factory.mktemp("clips") / "scene.mp4", seconds=20.0)


def test_file_is_sampled_to_rate_and_size_and_loops(scene_mp4):
    src = FrameSource(str(scene_mp4), fps=2.5, width=240, loop=True, realtime=False)
    got = []
    for s in src.samples():
        got.append(s)
        if len(got) == 60:
            break
    ts = np.array([s.t for s in got])
    assert all(s.frame is not None and s.frame.shape == (135, 240, 3) for s in got)
    # 2.5 fps from a 5 fps file: every other frame; 60 samples = 24 s > the 20 s clip, so it looped.
    assert np.allclose(np.diff(ts), 0.4, atol=1e-6)
    assert ts[-1] == pytest.approx(23.6)


def test_file_without_loop_ends_and_missing_file_never_raises(scene_mp4, caplog):
    n = sum(1 for _ in FrameSource(str(scene_mp4), fps=5, loop=False, realtime=False).samples())
    assert n == 100
    stop = threading.Event()
    src = FrameSource("file:///nonexistent/cam.mp4", fps=5, backoff=Backoff(initial=0.1, cap=0.2))
    got = []
    with caplog.at_level(logging.WARNING, logger="video.sources"):
        for s in src.samples(stop):
            got.append(s)
            if len(got) >= 4:
                stop.set()
    assert all(s.frame is None for s in got)
    assert "cannot open" in caplog.text


class _MJPEG(BaseHTTPRequestHandler):
    frames = 0

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        try:
            for i in range(200):
                img = np.full((180, 320, 3), (i * 7) % 200 + 30, np.uint8)
                cv2.putText(img, str(i), (40, 120), cv2.FONT_HERSHEY_SIMPLEX, 3, (255, 255, 255), 5)
                jpg = cv2.imencode(".jpg", img)[1].tobytes()
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpg))
                self.wfile.write(jpg + b"\r\n")
                type(self).frames += 1
                time.sleep(0.05)
        except OSError:
            pass

    def log_message(self, *args):
        pass


def test_mjpeg_over_http_is_read_at_the_target_rate():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MJPEG)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://viewer:pw@127.0.0.1:{server.server_port}/video.mjpg"
        src = FrameSource(url, fps=5, width=160)
        assert "pw" not in src.name
        got, t0 = [], time.monotonic()
        for s in src.samples():
            if s.frame is not None:
                got.append(s)
            if len(got) == 8 or time.monotonic() - t0 > 10:
                break
        src.close()
    finally:
        server.shutdown()
    assert len(got) == 8
    assert got[0].frame.shape == (90, 160, 3)
    rate = (len(got) - 1) / (got[-1].t - got[0].t)
    assert 3.5 < rate < 6.5, rate


def start_rtsp(port: int, clip: Path) -> subprocess.Popen:
    """The GStreamer RTSP test server (system python) serving clip at rtsp://127.0.0.1:port/cam1."""
    proc = subprocess.Popen([SYSTEM_PYTHON, str(RTSP_SERVER), str(port), str(clip)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("ready"), f"RTSP server did not start: {line} {proc.stderr.read() if proc.poll() else ''}"
    return proc


def stop_rtsp(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_rtsp_opens_fast_and_reconnects_after_the_server_restarts(scene_mp4):
    port = free_port()
    server = start_rtsp(port, scene_mp4)
    stop = threading.Event()
    src = FrameSource(f"rtsp://127.0.0.1:{port}/cam1", fps=5, read_timeout_s=2.0,
                      backoff=Backoff(initial=0.2, cap=1.0))
    before, after, t_restart = 0, 0, None
    t0 = time.monotonic()
    try:
        for s in src.samples(stop):
            if time.monotonic() - t0 > 25:
                break
            if s.frame is None:
                continue
            if t_restart is None:
                before += 1
                if before == 5:
                    stop_rtsp(server)
                    server = start_rtsp(port, scene_mp4)
                    t_restart = time.monotonic()
            else:
                after += 1
                if after == 5:
                    break
    finally:
        stop.set()
        src.close()
        stop_rtsp(server)
    assert before == 5 and after == 5, (before, after)
    assert src.reconnects >= 1
    assert time.monotonic() - t_restart < 15
