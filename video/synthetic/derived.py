"""Clips derived from real footage by a recipe (tests/data/derived/*.json): ffmpeg composites, ramps, faults.

A recipe names a stretch of a source clip (`background`: `clip`, `start_s`, `end_s`, `duration_s`,
`pingpong` to play the stretch forwards and backwards until `duration_s`, `hold` to freeze one frame
for a while), patches that appear and move along a `path` of `[t, x, y]` pixel points (`overlays`:
a rounded-corner cut `patch` of a source frame, or a drawn textured `box`), and plain ffmpeg filters
applied to the whole picture afterwards (`filters`, timeline `t` in seconds of the derived clip).
An `untouched` recipe is its source clip as it is. `camera` and `truth` (the camera config and the
hand-made events) are the labels and take no part in deriving. The clip is written once into a
cache directory under a name holding the hash of everything that shapes it, so a rerun reuses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

# Bump when the way a recipe becomes a clip changes: old cached clips are then not reused.
DERIVE_VERSION = 1
FOOTAGE_ENV = "GRIDWATCH_FOOTAGE"


class RecipeError(ValueError):
    """A recipe that cannot be derived; the message names the recipe and the problem."""


def find_footage(repo_root: Path) -> Path:
    """The CC-BY footage directory: $GRIDWATCH_FOOTAGE, else ../shared/video beside the checkout."""
    env = os.environ.get(FOOTAGE_ENV)
    path = Path(env) if env else repo_root.parent / "shared" / "video"
    if not path.is_dir():
        raise FileNotFoundError(
            f"footage directory {path} is missing: the derived-clip checks need the CC-BY clips "
            f"(parking-lot-cars.mp4, indoor-people-one-by-one.mp4) there, or ${FOOTAGE_ENV} naming their directory")
    return path


def default_cache() -> Path:
    """Where derived clips are kept between runs: $XDG_CACHE_HOME/gridwatch/derived (~/.cache by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gridwatch" / "derived"


def load_recipes(directory: Path) -> list[dict]:
    """Every *.json recipe of a directory, sorted by name, each checked for the keys deriving needs."""
    recipes = []
    for path in sorted(directory.glob("*.json")):
        recipe = json.loads(path.read_text())
        _check(recipe, path.name)
        recipes.append(recipe)
    if not recipes:
        raise RecipeError(f"no recipe (*.json) in {directory}")
    return recipes


def _check(recipe: dict, where: str) -> None:
    for key in ("name", "background", "camera", "truth"):
        if key not in recipe:
            raise RecipeError(f"recipe {where}: missing key {key!r}")
    if "clip" not in recipe["background"]:
        raise RecipeError(f"recipe {where}: background has no 'clip'")
    if recipe.get("untouched"):
        return
    bg = recipe["background"]
    for key in ("start_s", "end_s", "duration_s"):
        if key not in bg:
            raise RecipeError(f"recipe {where}: background has no {key!r}")
    for i, ov in enumerate(recipe.get("overlays", [])):
        if ("patch" in ov) == ("box" in ov):
            raise RecipeError(f"recipe {where}: overlays.{i} needs exactly one of 'patch' or 'box'")
        if not ov.get("path"):
            raise RecipeError(f"recipe {where}: overlays.{i} has no path")


def derive(recipe: dict, footage: Path, cache: Path) -> Path:
    """The recipe's clip: the source itself when untouched, else built by ffmpeg into cache (reused if there)."""
    source = footage / recipe["background"]["clip"]
    if not source.exists():
        raise FileNotFoundError(f"recipe {recipe['name']}: source clip {source} is missing")
    if recipe.get("untouched"):
        return source
    out = cache / f"{recipe['name']}-{_digest(recipe, footage)}.mp4"
    if out.exists():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        work = Path(tmp)
        patches = [_make_patch(ov, footage, work / f"patch{i}.png", recipe["name"])
                   for i, ov in enumerate(recipe.get("overlays", []))]
        part = work / "clip.mp4"
        _run(_command(recipe, footage, patches, part), recipe["name"])
        # Rename last: an interrupted run leaves no half-written clip under the cached name.
        os.replace(part, out)
    return out


def _digest(recipe: dict, footage: Path) -> str:
    shaping = {k: recipe.get(k) for k in ("background", "overlays", "filters")}
    clips = {recipe["background"]["clip"]} | {ov["patch"]["clip"] for ov in recipe.get("overlays", []) if "patch" in ov}
    sizes = {c: (footage / c).stat().st_size for c in sorted(clips)}
    text = json.dumps([DERIVE_VERSION, shaping, sizes], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _run(cmd: list[str], name: str) -> None:
    if shutil.which(cmd[0]) is None:
        raise FileNotFoundError(f"{cmd[0]} is not installed: deriving clip {name} needs it")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RecipeError(f"recipe {name}: {cmd[0]} failed: {done.stderr.strip()[-800:]}")


def _frame_rate(clip: Path) -> Fraction:
    """The clip's frame rate from ffprobe (as a fraction, e.g. 25/2)."""
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=r_frame_rate",
           "-of", "default=nw=1:nk=1", str(clip)]
    if shutil.which("ffprobe") is None:
        raise FileNotFoundError("ffprobe is not installed: deriving clips needs it")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    return Fraction(out)


def _make_patch(ov: dict, footage: Path, out: Path, name: str) -> Path:
    """Write the overlay's picture as an RGBA PNG: a cut of a source frame, or a drawn textured box."""
    if "patch" in ov:
        p = ov["patch"]
        frame_png = out.with_suffix(".frame.png")
        _run(["ffmpeg", "-v", "error", "-y", "-ss", str(p["t"]), "-i", str(footage / p["clip"]),
              "-frames:v", "1", str(frame_png)], name)
        frame = cv2.imread(str(frame_png))
        x, y, w, h = p["rect"]
        if frame is None or x < 0 or y < 0 or x + w > frame.shape[1] or y + h > frame.shape[0]:
            raise RecipeError(f"recipe {name}: patch rect {p['rect']} is not inside {p['clip']} at {p['t']} s")
        bgr = frame[y:y + h, x:x + w]
        if p.get("mask") == "hull":
            alpha = _hull_mask(bgr, p["threshold"], p.get("feather", 0))
            bx, by, bw, bh = cv2.boundingRect(alpha)
            if bw * bh == 0:
                raise RecipeError(f"recipe {name}: nothing in patch rect {p['rect']} is brighter than {p['threshold']}")
            # The patch is the object's own box: "W-w" in a path then puts the object itself on the border.
            bgr, alpha = bgr[by:by + bh, bx:bx + bw], alpha[by:by + bh, bx:bx + bw]
        else:
            alpha = _rounded_mask(w, h, p.get("corner", 0), p.get("feather", 0))
    else:
        b = ov["box"]
        w, h = b["w"], b["h"]
        # A seeded texture: the same recipe always makes the same box.
        rng = np.random.default_rng(int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
        bgr = np.empty((h, w, 3), np.float32)
        bgr[:] = _bgr(b["color"])
        bgr += rng.normal(0.0, b.get("texture", 0), (h, w, 1))
        bgr[:2], bgr[-2:], bgr[:, :2], bgr[:, -2:] = (_bgr(b.get("edge", b["color"])),) * 4
        bgr = np.clip(bgr, 0, 255).astype(np.uint8)
        alpha = np.full((h, w), 255, np.uint8)
    cv2.imwrite(str(out), np.dstack([bgr, alpha]))
    return out


def _bgr(hex_rgb: str) -> tuple[int, int, int]:
    v = int(hex_rgb.removeprefix("0x").removeprefix("#"), 16)
    return (v & 0xFF, (v >> 8) & 0xFF, v >> 16)


def _hull_mask(bgr: np.ndarray, threshold: int, feather: int) -> np.ndarray:
    """The convex hull of the largest region brighter than threshold: a light car on dark asphalt, with
    its dark windows and panels inside the hull."""
    grey = cv2.GaussianBlur(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), (5, 5), 0)
    bright = cv2.morphologyEx((grey > threshold).astype(np.uint8) * 255, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bright)
    mask = np.zeros_like(bright)
    if n < 2:
        return mask
    largest = np.where(labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])), 255, 0).astype(np.uint8)
    contours, _ = cv2.findContours(largest, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.fillPoly(mask, [cv2.convexHull(np.vstack(contours))], 255)
    if feather > 0:
        mask = cv2.GaussianBlur(mask, (2 * feather + 1, 2 * feather + 1), 0)
    return mask


def _rounded_mask(w: int, h: int, corner: int, feather: int) -> np.ndarray:
    """Opaque rounded rectangle of the patch's size, its rim softened over `feather` pixels."""
    mask = np.zeros((h, w), np.uint8)
    r = max(0, min(corner, w // 2, h // 2))
    cv2.rectangle(mask, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(mask, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
        cv2.circle(mask, (cx, cy), r, 255, -1)
    if feather > 0:
        mask = cv2.erode(mask, np.ones((feather, feather), np.uint8))
        mask = cv2.GaussianBlur(mask, (2 * feather + 1, 2 * feather + 1), 0)
    return mask


def _path_expr(points: list[list[float]], axis: int) -> str:
    """Piecewise-linear ffmpeg expression of t through the path's [t, x, y] points; the last value holds after.

    x and y are pixels of the patch's top-left corner, or overlay expressions such as "W-w" (W, H: the
    picture's size; w, h: the patch's), so a patch can be put against a border whatever its size.
    """
    expr = f"{points[-1][axis]}"
    for p0, p1 in reversed(list(zip(points, points[1:]))):
        t0, t1, a, b = p0[0], p1[0], p0[axis], p1[axis]
        expr = f"if(lt(t,{t1}),({a})+(({b})-({a}))*(t-{t0})/{t1 - t0},{expr})"
    return expr


def _segments(bg: dict) -> list[tuple[float, float, str]]:
    """The background as (start, end, how) pieces of the source: forward, reverse, or "hold" (the frame
    at start shown until end - start seconds have passed)."""
    a, b, total = bg["start_s"], bg["end_s"], bg["duration_s"]
    if bg.get("pingpong"):
        pieces, made, forward = [], 0.0, True
        while made < total:
            pieces.append((a, b, "forward" if forward else "reverse"))
            made += b - a
            forward = not forward
        return pieces
    hold = bg.get("hold")
    if hold:
        at, until = a + hold["at_s"], a + hold["at_s"] + hold["for_s"]
        return [(a, at, "forward"), (at, until, "hold"), (until, b, "forward")]
    return [(a, b, "forward")]


def _command(recipe: dict, footage: Path, patches: list[Path], out: Path) -> list[str]:
    """The ffmpeg command line that derives the recipe's clip into out."""
    bg = recipe["background"]
    source = footage / bg["clip"]
    fps = _frame_rate(source)
    pieces = _segments(bg)
    lo, hi = min(p[0] for p in pieces), max(p[1] for p in pieces)
    # Input seeking to the stretch: only the seconds needed are decoded.
    cmd = ["ffmpeg", "-v", "error", "-y", "-ss", f"{lo}", "-t", f"{hi - lo + 1.0}", "-i", str(source)]
    for p in patches:
        cmd += ["-loop", "1", "-i", str(p)]
    rate = f"{fps.numerator}/{fps.denominator}"
    graph = [f"[0:v]split={len(pieces)}" + "".join(f"[i{k}]" for k in range(len(pieces)))]
    for k, (s, e, how) in enumerate(pieces):
        if how == "hold":
            frames = round((e - s) * fps)
            graph.append(f"[i{k}]trim=start={s - lo},setpts=PTS-STARTPTS,trim=end_frame=1,"
                         f"loop=loop={frames - 1}:size=1:start=0,setpts=N/({rate})/TB[s{k}]")
        else:
            rev = ",reverse" if how == "reverse" else ""
            graph.append(f"[i{k}]trim=start={s - lo}:end={e - lo},setpts=PTS-STARTPTS{rev}[s{k}]")
    graph.append("".join(f"[s{k}]" for k in range(len(pieces)))
                 + f"concat=n={len(pieces)}:v=1:a=0,fps={rate},"
                 + f"trim=duration={bg['duration_s']},setpts=PTS-STARTPTS[b0]")
    last = "b0"
    for k, ov in enumerate(recipe.get("overlays", [])):
        pts = ov["path"]
        x, y = _path_expr(pts, 1), _path_expr(pts, 2)
        graph.append(f"[{last}][{k + 1}:v]overlay=x='{x}':y='{y}':eval=frame:shortest=1:"
                     f"enable='gte(t,{pts[0][0]})'[o{k}]")
        last = f"o{k}"
    chain = ",".join(list(recipe.get("filters", [])) + ["format=yuv420p"])
    graph.append(f"[{last}]{chain}[out]")
    return cmd + ["-filter_complex", ";".join(graph), "-map", "[out]", "-an", "-c:v", "libx264",
                  "-preset", "veryfast", "-crf", "18", "-r", rate, str(out)]
