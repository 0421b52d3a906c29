"""gridwatch video analyze: prints one JSON line per situation with the issue's keys."""

import argparse
import json

import cv2
import numpy as np

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
