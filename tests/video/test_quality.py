"""Video quality diagnosis on synthetic frames: each fault is found after its seconds, healthy is quiet."""

import cv2
import numpy as np
import pytest

from video.config import Health
from video.quality import QualityMonitor


def _view(shift=0):
    rng = np.random.default_rng(7)
    pano = cv2.resize(rng.integers(0, 255, (30, 70, 3)).astype(np.uint8), (700, 300), interpolation=cv2.INTER_NEAREST)
    return pano[:, shift:shift + 480]


def _faulty(kind, frame, rng, t):
    if kind == "covered":
        return np.clip(rng.normal(12, 2, frame.shape), 0, 255).astype(np.uint8)
    if kind == "blurred":
        return cv2.GaussianBlur(frame, (0, 0), 6)
    if kind == "moved":
        return np.clip(_view(180) + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8)
    return frame


@pytest.mark.parametrize("kind", ["covered", "blurred", "moved", "frozen", None])
def test_fault_found_after_its_seconds(kind):
    health = Health(frozen=2, covered=2, blurred=2, moved=2)
    q = QualityMonitor(health)
    rng = np.random.default_rng(1)
    first_problem = {}
    frozen = None
    for i in range(60):
        t = i / 5
        frame = np.clip(_view() + rng.normal(0, 2, (300, 480, 3)), 0, 255).astype(np.uint8)
        if t >= 5:
            frame = _faulty(kind, frame, rng, t)
            if kind == "frozen":
                frozen = frame if frozen is None else frozen
                frame = frozen
        for p in q.update(frame, t).problems:
            first_problem.setdefault(p, t)
    if kind is None:
        assert first_problem == {}
    else:
        assert set(first_problem) == {kind}
        assert 6.8 <= first_problem[kind] <= 8.0


def test_offline_after_seconds_without_frames():
    q = QualityMonitor(Health(offline=3))
    q.update(_view(), 0.0)
    assert "offline" not in q.no_frame(2.0).problems
    assert "offline" in q.no_frame(3.5).problems


def _plain_view(shift=0):
    """A low-texture view (asphalt, a wall): slow shading, stronger to the left, and sparse fine speckle.

    The right-hand part is flatter than the left, so a view shifted right loses contrast (thumbnail std
    about 12 to 8) yet keeps its speckle, and its shading still matches itself shifted (block similarity
    about 0.7, above the fixed moved bar of a textured view).
    """
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:300, 0:700] / 300.0
    shade = 24 * np.cos(2.0 * xx - 0.6) * np.cos(2.0 * yy) * np.linspace(1.4, 0.5, 700)[None, :]
    speckle = (rng.random((300, 700)) < 0.01) * 50.0
    pano = np.clip(110 + shade + speckle, 0, 255).astype(np.uint8)
    return cv2.cvtColor(pano[:, shift:shift + 480], cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize("shifts", [True, False], ids=["shifted", "still"])
def test_plain_view_moved_not_covered(shifts):
    q = QualityMonitor(Health(frozen=2, covered=2, blurred=2, moved=2))
    rng = np.random.default_rng(1)
    first_problem = {}
    for i in range(60):
        t = i / 5
        view = _plain_view(180 if shifts and t >= 5 else 0)
        frame = np.clip(view + rng.normal(0, 2, view.shape), 0, 255).astype(np.uint8)
        for p in q.update(frame, t).problems:
            first_problem.setdefault(p, t)
    if shifts:
        assert set(first_problem) == {"moved"}
        assert 6.8 <= first_problem["moved"] <= 8.0
    else:
        assert first_problem == {}
