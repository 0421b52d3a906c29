"""A tiny RTSP server for tests: serves an H.264 .mp4 file at rtsp://127.0.0.1:PORT/cam1.

Runs under the SYSTEM python (/usr/bin/python3), which has GStreamer's RTSP server bindings
(python3-gi, gir1.2-gst-rtsp-server-1.0); the venv does not. Usage:

    /usr/bin/python3 tests/video/rtsp_server.py PORT CLIP.mp4 [--mount /cam1]

Prints "ready PORT" on stdout once it listens; exits on SIGTERM. Every client gets its own
pipeline that plays the file at its real rate, so a client sees the clip from the start.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    """Serve the clip until SIGTERM."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("port", type=int)
    ap.add_argument("clip")
    ap.add_argument("--mount", default="/cam1")
    args = ap.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    # config-interval=-1 repeats SPS/PPS with every key frame, so a late joiner can decode at once.
    factory.set_launch(
        f'( filesrc location="{args.clip}" ! qtdemux ! h264parse config-interval=-1 '
        "! rtph264pay name=pay0 pt=96 )"
    )
    factory.set_shared(False)
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on port {args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"ready {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
