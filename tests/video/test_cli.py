"""gridwatch video analyze: prints one JSON line per situation with the issue's keys."""

import argparse
import json

import cv2
import numpy as np

from tests.video import clips
from tests.video.onnx_models import yolo_model
from workers.cli import video_cmd


def test_video_analyze_prints_situations(tmp_path, capsys):
    clip = tmp_path / "dark.avi"
    out = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 5, (160, 90))
    rng = np.random.default_rng(0)
    for i in range(40):
        frame = np.clip(rng.normal(130 if i < 10 else 8, 30 if i < 10 else 1, (90, 160, 3)), 0, 255).astype(np.uint8)
        out.write(frame)
    out.release()
    cam = tmp_path / "cam.json"
    cam.write_text(json.dumps({"code": "T", "url": str(clip), "lon": 114.35, "lat": 22.7, "health": {"covered": 2}}))
    parser = argparse.ArgumentParser()
    video_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["video", "analyze", str(clip), "--camera", str(cam)])
    assert args.func(args, None) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["rule"] for x in lines] == ["covered"]
    assert set(lines[0]) == {"rule", "zone", "start_s", "end_s", "box", "confidence", "track"}
    assert lines[0]["zone"] is None and 3.5 <= lines[0]["start_s"] <= 4.5


def test_video_analyze_bad_config_exits_2(tmp_path, capsys):
    cam = tmp_path / "cam.json"
    cam.write_text('{"code": "T"}')
    parser = argparse.ArgumentParser()
    video_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["video", "analyze", "x.mp4", "--camera", str(cam)])
    assert args.func(args, None) == 2 and "url" in capsys.readouterr().err


def test_video_analyze_with_an_onnx_model(tmp_path, capsys):
    # A figure walks right across a still street; the model calls whatever it is shown a person (0.9)
    # filling most of its input, so the pipeline's motion crops come back as that person.
    rng = np.random.default_rng(3)
    street = np.clip(rng.normal(150, 4, (270, 480, 3)), 0, 255).astype(np.uint8)
    frames = []
    for i in range(30):
        f = street.copy()
        x = 40 + 12 * i
        f[120:240, x:x + 40] = (40, 60, 90)
        frames.append(f)
    clip = clips.encode_h264(frames, tmp_path / "walk.mp4", 5.0)
    model = yolo_model(tmp_path / "tiny.onnx", (64, 64), [(32, 32, 56, 60, 0, 0.9)], num_classes=3)
    cam = tmp_path / "cam.json"
    cam.write_text(json.dumps({"code": "T", "url": str(clip), "lon": 114.35, "lat": 22.7,
                               "zones": [{"name": "street", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
                                          "rules": [{"kind": "intrusion"}]}]}))
    parser = argparse.ArgumentParser()
    video_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["video", "analyze", str(clip), "--camera", str(cam), "--model", str(model),
                              "--model-size", "64x64", "--model-layout", "v8"])
    assert args.func(args, None) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(x["rule"], x["zone"]) for x in lines] == [("intrusion", "street")]
    assert lines[0]["confidence"] == 0.9 and lines[0]["start_s"] <= 1.5 and lines[0]["end_s"] >= 4.5
    x1, y1, x2, y2 = lines[0]["box"]
    assert 0.4 < y1 < 0.5 and 0.85 < y2 < 0.95 and 0.05 < x2 - x1 < 0.25  # the figure (rows 0.44-0.89), not the frame


def test_video_analyze_refuses_a_broken_model(tmp_path, capsys):
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not a model")
    cam = tmp_path / "cam.json"
    cam.write_text(json.dumps({"code": "T", "url": "x.mp4", "lon": 114.35, "lat": 22.7}))
    parser = argparse.ArgumentParser()
    video_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["video", "analyze", "x.mp4", "--camera", str(cam), "--model", str(model)])
    assert args.func(args, None) == 2 and "cannot load model" in capsys.readouterr().err
