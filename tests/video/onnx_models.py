"""Tiny YOLO-shaped ONNX models built at test time, so cv2.dnn loads and runs a real graph."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def yolo_model(path: Path, input_wh: tuple[int, int], candidates: Sequence[tuple], num_classes: int,
               layout: str = "v8", slots: int | None = None) -> Path:
    """Save a YOLO-shaped model with fixed candidates (cx, cy, w, h, class, score[, gain]) in input pixels."""
    # output = head + gain * ReduceMean(input): a score rises by `gain` times the 0-1 blob's mean, so the
    # output depends on the frame and cv2.dnn has to run the graph, not hand back a constant.
    # layout "v8" gives (1, 4+C, N), "v5" (1, N, 5+C) with objectness 1; slots pads N with empty candidates.
    n = max(len(candidates), slots or 0)
    head = np.zeros((n, 4 + num_classes), np.float32)
    gain = np.zeros_like(head)
    for i, (cx, cy, w, h, cls, score, *rest) in enumerate(candidates):
        head[i, :4] = (cx, cy, w, h)
        head[i, 4 + cls] = score
        gain[i, 4 + cls] = rest[0] if rest else 0.0
    if layout == "v5":
        ones = np.ones((n, 1), np.float32)
        head = np.concatenate([head[:, :4], ones, head[:, 4:]], axis=1)
        gain = np.concatenate([gain[:, :4], 0 * ones, gain[:, 4:]], axis=1)
    else:
        head, gain = head.T, gain.T
    head, gain = np.ascontiguousarray(head[None]), np.ascontiguousarray(gain[None])
    w, h = input_wh
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Reshape", ["mean", "shape"], ["mean3"]),
        helper.make_node("Mul", ["mean3", "gain"], ["lift"]),
        helper.make_node("Add", ["lift", "head"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, h, w])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(head.shape))],
        [numpy_helper.from_array(np.array([1, 1, 1], np.int64), "shape"),
         numpy_helper.from_array(gain, "gain"), numpy_helper.from_array(head, "head")],
    )
    # Opset 13 keeps ReduceMean's axes an attribute, which every cv2.dnn 4.x importer reads.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
