"""gridwatch video analyze CLIP --camera CONFIG.json: offline analysis, one JSON line per situation and per line crossing."""

from __future__ import annotations

import json
import logging
import sys

from workers.cli.model_args import ModelError, add_model_arguments, load_model

logger = logging.getLogger(__name__)


def register(sub) -> None:
    """Add the `video` command and its `analyze` action."""
    p = sub.add_parser("video", help="video analytics tools")
    vsub = p.add_subparsers(dest="video_command", required=True)
    a = vsub.add_parser("analyze", help="run the camera pipeline on a clip and print its situations and line crossings")
    a.add_argument("clip", help="video file")
    a.add_argument("--camera", required=True, help="camera config JSON (see docs/cameras.md)")
    a.add_argument("--fps", type=float, default=None, help="analysis rate (default: the config's fps)")
    a.add_argument("--width", type=int, default=640, help="analysis width in pixels (default 640)")
    add_model_arguments(a)
    a.set_defaults(func=run)


def run(args, settings) -> int:
    """Analyse the clip and print one JSON object per situation and per line crossing; 2 on a bad config or clip."""
    import cv2

    from video.config import ConfigError, load_config
    from video.pipeline import analyze

    cv2.setNumThreads(1)
    try:
        config = load_config(args.camera)
    except (ConfigError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        detector = load_model(args.model, args.model_size, args.model_layout)
    except ModelError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        for line in analyze(args.clip, config, rate=args.fps, detector=detector, analysis_width=args.width):
            print(json.dumps(line, ensure_ascii=False), flush=True)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0
