"""Camera configuration: the normative JSON object of one camera, validated loudly.

One JSON object per camera (issue 4, section 3). Zones and calibration points are in 0-1 image
coordinates (x to the right, y downwards), durations in seconds. Unknown keys are errors, so a typo
in a config file fails at load time instead of silently disabling a rule.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from shapely.geometry import LineString, Point, Polygon

logger = logging.getLogger(__name__)

# The rule kinds video reports situations by; health problems are named by the fields of Health below.
# Which matter each becomes is the domain's choice (grid/camera_matters.py), never video's.
RuleKind = Literal["intrusion", "loitering", "crowd", "object_left", "vehicle_stopped"]

# Seconds a rule needs before it fires when the config gives none.
DEFAULT_SECONDS: dict[str, float] = {
    "intrusion": 0.0,
    "loitering": 30.0,
    "crowd": 10.0,
    "object_left": 60.0,
    "vehicle_stopped": 120.0,
}

UnitFloat = Annotated[float, Field(ge=0.0, le=1.0)]
UnitPoint = Annotated[list[UnitFloat], Field(min_length=2, max_length=2)]


def _ordered(v: list[float]) -> list[float]:
    if not v[0] < v[1]:
        raise ValueError(f"[min, max] needs min < max, got {v}")
    return v


# [min, max] share of the frame's area, min above 0.
AreaRange = Annotated[list[Annotated[float, Field(gt=0.0, le=1.0)]], Field(min_length=2, max_length=2),
                      AfterValidator(_ordered)]
# Sizes of still blobs, as shares of the frame, when a zone names none (docs/cameras.md).
DEFAULT_VEHICLE_AREA = (0.015, 0.5)
DEFAULT_OBJECT_AREA = (0.0002, 0.012)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One analytic rule attached to a zone."""

    kind: RuleKind = Field(title="Kind", description="What the rule detects in its zone.")
    seconds: float | None = Field(
        default=None, ge=0.0, le=86400.0, title="Seconds",
        description="How long the condition must hold before the situation starts; default per kind "
        "(intrusion 0, loitering 30, crowd 10, object_left 60, vehicle_stopped 120).",
    )
    min_people: int | None = Field(
        default=None, ge=2, le=1000, title="Minimum people",
        description="Crowd only: people in the zone at once that make a crowd (default 5).",
    )
    matter: str | None = Field(
        default=None, min_length=1, max_length=64, title="Matter code",
        description="Matters-list code the incident is filed under; default the kind's matter in the "
        "domain's table (grid/camera_matters.py RULE_MATTERS).",
    )
    dispatch: Literal["auto", "manual"] = Field(
        default="manual", title="Dispatch",
        description="'auto' dispatches the incident to the grid worker at once; 'manual' waits for staff.",
    )

    @model_validator(mode="after")
    def _min_people_only_for_crowd(self) -> Rule:
        if self.min_people is not None and self.kind != "crowd":
            raise ValueError(f"min_people applies only to crowd rules, not {self.kind}")
        return self

    @property
    def hold_s(self) -> float:
        """Seconds the condition must hold, the kind's default when unset."""
        return DEFAULT_SECONDS[self.kind] if self.seconds is None else float(self.seconds)

    @property
    def people(self) -> int:
        """Crowd threshold, 5 when unset."""
        return 5 if self.min_people is None else self.min_people


class Zone(_Strict):
    """A named image region with its rules."""

    name: str = Field(min_length=1, max_length=64, title="Name", description="Zone name, unique per camera.")
    polygon: list[UnitPoint] = Field(
        min_length=3, max_length=64, title="Polygon",
        description="Vertices [x, y] in 0-1 image coordinates (x right, y down), not repeated at the end.",
    )
    rules: list[Rule] = Field(default_factory=list, title="Rules", description="Rules evaluated in this zone.")
    vehicle_area: AreaRange | None = Field(
        default=None, title="Vehicle size",
        description="[min, max] share of the frame's area a still blob's box covers to be a vehicle, when the "
        "camera is not calibrated and no detector names it (a car 20 m away on a 640x360 street view: ~0.02); "
        "default [0.015, 0.5].",
    )
    object_area: AreaRange | None = Field(
        default=None, title="Object size",
        description="[min, max] share of the frame's area a still blob's box covers to be a left object "
        "(object_left), when the camera is not calibrated; must lie below vehicle_area; default [0.0002, 0.012].",
    )

    @model_validator(mode="after")
    def _sizes_apart(self) -> Zone:
        obj, veh = self.object_range, self.vehicle_range
        if obj[1] > veh[0]:
            raise ValueError(f"object_area {list(obj)} overlaps vehicle_area {list(veh)}: a blob must be one or the other")
        return self

    @property
    def vehicle_range(self) -> tuple[float, float]:
        """[min, max] frame share of a vehicle in this zone, the default when unset."""
        return tuple(self.vehicle_area) if self.vehicle_area is not None else DEFAULT_VEHICLE_AREA

    @property
    def object_range(self) -> tuple[float, float]:
        """[min, max] frame share of a left object in this zone, the default when unset."""
        return tuple(self.object_area) if self.object_area is not None else DEFAULT_OBJECT_AREA

    @field_validator("polygon")
    @classmethod
    def _valid_polygon(cls, pts: list[list[float]]) -> list[list[float]]:
        poly = Polygon(pts)
        if not poly.is_valid or poly.area <= 1e-6:
            raise ValueError("polygon must be a simple, non-degenerate ring (no self-crossing, area > 0)")
        return pts

    @field_validator("rules")
    @classmethod
    def _one_rule_per_kind(cls, rules: list[Rule]) -> list[Rule]:
        kinds = [r.kind for r in rules]
        dupes = sorted({k for k in kinds if kinds.count(k) > 1})
        if dupes:
            raise ValueError(f"one rule per kind and zone; repeated: {', '.join(dupes)}")
        return rules


LineClass = Literal["person", "vehicle"]


class Line(_Strict):
    """A counting line across the picture (issue 14): tracks that cross it are counted in or out."""

    name: str = Field(min_length=1, max_length=64, title="Name", description="Line name, unique per camera.")
    points: list[UnitPoint] = Field(
        min_length=2, max_length=16, title="Points",
        description="Vertices [x, y] in 0-1 image coordinates of an open polyline (2 for a straight line).",
    )
    in_side: UnitPoint = Field(
        title="In side", description="A point [x, y] on the side of the line that counts as 'in'.",
    )
    classes: list[LineClass] = Field(
        default_factory=lambda: ["person", "vehicle"], min_length=1, max_length=2, title="Classes",
        description="What is counted: 'person', 'vehicle' or both.",
    )

    @field_validator("points")
    @classmethod
    def _valid_line(cls, pts: list[list[float]]) -> list[list[float]]:
        line = LineString(pts)
        if not line.is_simple or line.length <= 1e-3:
            raise ValueError("points must make a simple line of some length (no self-crossing, length > 0.001)")
        return pts

    @field_validator("classes")
    @classmethod
    def _unique_classes(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"classes repeated: {v}")
        return v

    @model_validator(mode="after")
    def _side_off_the_line(self) -> Line:
        if LineString(self.points).distance(Point(self.in_side)) <= 1e-3:
            raise ValueError("in_side must lie off the line, on the side that counts as 'in'")
        return self


class Health(_Strict):
    """Video quality diagnosis: seconds each problem must last before a maintenance case opens."""

    offline: float = Field(default=30.0, gt=0, title="Offline", description="Seconds without any frame.")
    frozen: float = Field(default=10.0, gt=0, title="Frozen", description="Seconds of identical frames.")
    covered: float = Field(default=5.0, gt=0, title="Covered", description="Seconds of a dark or uniform image.")
    blurred: float = Field(
        default=10.0, gt=0, title="Blurred",
        description="Seconds of sharpness far below the camera's own baseline.",
    )
    moved: float = Field(
        default=10.0, gt=0, title="Moved", description="Seconds of a scene that no longer matches the reference.",
    )


class CalibrationPair(_Strict):
    """One image point and the map position it shows."""

    px: UnitPoint = Field(title="Image point", description="[x, y] in 0-1 image coordinates.")
    lonlat: Annotated[list[float], Field(min_length=2, max_length=2)] = Field(
        title="Map position", description="[lon, lat] in WGS84 degrees.",
    )

    @field_validator("lonlat")
    @classmethod
    def _valid_lonlat(cls, v: list[float]) -> list[float]:
        if not (-180 <= v[0] <= 180 and -90 <= v[1] <= 90):
            raise ValueError(f"lonlat {v} is not [lon, lat] in degrees")
        return v


class CameraConfig(_Strict):
    """One camera: where it is, how to reach it, its zones and rules, and its health thresholds."""

    code: str = Field(
        min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$", title="Code",
        description="Unique camera code, e.g. PS-CAM-0001.",
    )
    name: str = Field(default="", max_length=200, title="Name", description="Human-readable camera name.")
    url: str = Field(
        min_length=1, title="Stream URL",
        description="rtsp://, http(s):// MJPEG or a local file path; may hold credentials, never logged.",
    )
    lon: float = Field(ge=-180, le=180, title="Longitude", description="Camera position, WGS84 degrees.")
    lat: float = Field(ge=-90, le=90, title="Latitude", description="Camera position, WGS84 degrees.")
    heading: float | None = Field(
        default=None, ge=0, lt=360, title="Heading", description="View direction in degrees clockwise from north.",
    )
    fps: float = Field(default=5.0, gt=0, le=30, title="Analysis rate", description="Frames analysed per second.")
    zones: list[Zone] = Field(default_factory=list, title="Zones", description="Analytic zones of this camera.")
    lines: list[Line] = Field(
        default_factory=list, max_length=16, title="Lines",
        description="Counting lines: crossings in and out per line and class (docs/cameras.md).",
    )
    health: Health = Field(default_factory=Health, title="Health", description="Video quality diagnosis thresholds.")
    privacy: Literal["tracks", "faces", "off"] = Field(
        default="tracks", title="Privacy",
        description="What snapshots and clips blur: the heads of tracked people ('tracks'), those and every "
        "face a Haar search finds ('faces', far more CPU), or nothing ('off').",
    )
    calibration: list[CalibrationPair] = Field(
        default_factory=list, title="Calibration",
        description="Image-to-map point pairs; 4 or more give a homography, fewer use the camera position.",
    )

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if "://" in v and not v.lower().startswith(("rtsp://", "rtsps://", "http://", "https://", "file://")):
            raise ValueError("url must be rtsp://, http(s):// (MJPEG), file:// or a local path")
        return v

    @field_validator("zones")
    @classmethod
    def _unique_zone_names(cls, zones: list[Zone]) -> list[Zone]:
        names = [z.name for z in zones]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"zone names must be unique; repeated: {', '.join(dupes)}")
        return zones

    @field_validator("lines")
    @classmethod
    def _unique_line_names(cls, lines: list[Line]) -> list[Line]:
        names = [ln.name for ln in lines]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"line names must be unique; repeated: {', '.join(dupes)}")
        return lines

    @field_validator("calibration")
    @classmethod
    def _enough_pairs(cls, pairs: list[CalibrationPair]) -> list[CalibrationPair]:
        if 0 < len(pairs) < 4:
            raise ValueError(f"calibration needs 4 or more pairs (got {len(pairs)}), or none")
        return pairs


class ConfigError(ValueError):
    """A camera config that cannot be used, with a message naming where and why."""


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"invalid camera config {source}:"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def parse_config(data: dict | str, source: str = "<memory>") -> CameraConfig:
    """Validate a camera config from a dict or JSON text; raise ConfigError naming each bad field."""
    try:
        if isinstance(data, str):
            return CameraConfig.model_validate_json(data)
        return CameraConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from exc


def load_config(path: str | Path) -> CameraConfig:
    """Read and validate one camera config JSON file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    return parse_config(text, str(path))
