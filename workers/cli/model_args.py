"""The --model options shared by `video analyze` and `worker camera`: an ONNX detector through cv2.dnn."""

from __future__ import annotations

import argparse

from video.detectors import YOLO_LAYOUTS


class ModelError(Exception):
    """The configured model cannot be loaded; the message names the file."""


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --model, --model-size WxH and --model-layout to a parser."""
    parser.add_argument("--model", default=None, help="ONNX detector model instead of the built-in HOG")
    parser.add_argument("--model-size", type=parse_size, default=(640, 640), metavar="WxH",
                        help="the ONNX model's input size (default 640x640)")
    parser.add_argument("--model-layout", choices=YOLO_LAYOUTS, default="auto",
                        help="YOLO output layout: v8 (1,4+C,N), v5 (1,N,5+C) or auto from the shape (default)")


def parse_size(text: str) -> tuple[int, int]:
    """Parse WxH (or one number for a square) into (width, height)."""
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) <= 0:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 640x640, got {text!r}")
    return (parts[0], parts[-1])


def load_model(model: str | None, size: tuple[int, int], layout: str):
    """The ONNX detector for these options, or None without a model (the pipeline's HOG); ModelError if unloadable."""
    if not model:
        return None
    import cv2

    from video.detectors import make_detector

    try:
        return make_detector(model, input_size=size, layout=layout)
    except cv2.error as exc:
        raise ModelError(f"cannot load model {model}: {exc}") from exc
