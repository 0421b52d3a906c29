"""gridwatch worker camera: analyse the cameras this process leases."""

from __future__ import annotations

import logging
import os
import signal
import sys

from grid.camera_matters import RULE_MATTERS
from workers.camera import CameraWorker, CameraWorkerConfig
from workers.cli.model_args import ModelError, add_model_arguments, load_model

logger = logging.getLogger(__name__)


def _matter_pair(text: str) -> tuple[str, str]:
    kind, sep, code = text.partition("=")
    if not sep or kind not in RULE_MATTERS or not code:
        raise ValueError(f"expected KIND=CODE with KIND one of {', '.join(RULE_MATTERS)}")
    return kind, code


def register(worker_sub) -> None:
    """Add `worker camera` to the worker parser."""
    p = worker_sub.add_parser("camera", help="read camera streams and raise situations on the incident stream")
    p.add_argument("--max-cameras", type=int, default=None, help="at most this many cameras in this process")
    p.add_argument("--lease-seconds", type=float, default=CameraWorkerConfig.lease_s,
                   help="camera lease period; a dead worker's cameras move within two periods")
    p.add_argument("--width", type=int, default=CameraWorkerConfig.analysis_width, help="analysis width in pixels")
    p.add_argument("--worker-id", help="lease owner name (default host-pid)")
    p.add_argument("--matter", action="append", default=[], metavar="KIND=CODE",
                   help="matter code for a rule kind or camera problem (repeatable); a rule's own matter wins")
    p.add_argument("--cameras", help="comma-separated camera codes: run only these (default: all)")
    p.add_argument("--no-face-blur", action="store_true", help="keep faces in snapshots and clips (privacy!)")
    add_model_arguments(p)
    p.set_defaults(func=run)


def worker_config(args) -> CameraWorkerConfig:
    """The worker settings the parsed arguments ask for; ValueError on a bad --matter."""
    matters = dict(RULE_MATTERS)
    matters.update(_matter_pair(m) for m in args.matter)
    only = frozenset(c.strip() for c in args.cameras.split(",") if c.strip()) if args.cameras else None
    return CameraWorkerConfig(max_cameras=args.max_cameras, only=only, lease_s=args.lease_seconds,
                              analysis_width=args.width, blur_faces=not args.no_face_blur, matters=matters,
                              model=args.model, model_size=args.model_size, model_layout=args.model_layout)


def run(args, settings) -> int:
    """Run the camera worker until SIGTERM or SIGINT."""
    # FFmpeg's own log lines may print a stream URL with its credentials: keep FFmpeg quiet
    # (AV_LOG_QUIET); our logs name streams through video.sources.redact.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    # One thread per camera already: OpenCV's own pool would oversubscribe the cores.
    cv2.setNumThreads(1)
    # OpenCV's warnings may echo a stream URL; our own logs redact them.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        config = worker_config(args)
    except ValueError as exc:
        print(f"gridwatch worker camera: --matter: {exc}")
        return 2
    try:
        # Load once up front: a bad model must stop the worker now, not fail in every camera thread.
        load_model(config.model, config.model_size, config.model_layout)
    except ModelError as exc:
        print(f"gridwatch worker camera: {exc}", file=sys.stderr)
        return 2
    worker = CameraWorker(settings.require_database(), settings.require_redis(), settings.media_path,
                          config, worker_id=args.worker_id)

    def stop(*_):
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("camera worker %s started (lease %.1f s, max %s cameras)", worker.worker_id, config.lease_s,
                config.max_cameras or "any")
    worker.run()
    logger.info("camera worker %s stopped", worker.worker_id)
    return 0
