"""Motion gate: still noise is quiet, a moving block is found where it is, exposure swings are ignored."""

import numpy as np
import pytest

from video.motion import MotionGate


def _scene(seed=0, h=270, w=480):
    rng = np.random.default_rng(seed)
    base = np.clip(rng.normal(110, 20, (h // 10, w // 10, 3)), 0, 255).astype(np.uint8)
    return np.kron(base, np.ones((10, 10, 1), np.uint8))


def _noisy(img, rng, sigma=3.0, gain=1.0):
    return np.clip(img * gain + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("gain", [1.0, 0.55, 1.35])
def test_still_scene_is_quiet_even_under_exposure_swings(gain):
    rng = np.random.default_rng(1)
    scene = _scene()
    gate = MotionGate()
    gate.update(_noisy(scene, rng))
    flags = [gate.update(_noisy(scene, rng, gain=gain if i % 2 else 1.0)).moving for i in range(20)]
    assert sum(flags) == 0


def test_moving_block_is_boxed_where_it_moves():
    rng = np.random.default_rng(2)
    scene = _scene()
    gate = MotionGate()
    gate.update(_noisy(scene, rng))
    frame = scene.copy()
    frame[100:200, 300:340] = 250
    m = gate.update(_noisy(frame, rng))
    assert m.moving and len(m.boxes) == 1
    x1, y1, x2, y2 = m.boxes[0]
    assert x1 <= 300 / 480 + 0.02 and x2 >= 340 / 480 - 0.02 and y1 <= 100 / 270 + 0.03 and y2 >= 200 / 270 - 0.03
    assert x1 > 0.5 and y2 < 0.9


def test_reset_forgets_previous_frame():
    gate = MotionGate()
    gate.update(np.zeros((90, 160, 3), np.uint8))
    gate.reset()
    assert not gate.update(np.full((90, 160, 3), 200, np.uint8)).moving
