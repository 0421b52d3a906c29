"""Camera config: the issue's normative JSON validates; bad configs fail with a message naming the field."""

import json

import pytest

from video.config import ConfigError, load_config, parse_config

EXAMPLE = {
    "code": "PS-CAM-0001", "name": "Pingshan gate", "url": "rtsp://user:pw@10.0.0.5/stream1",
    "lon": 114.35, "lat": 22.70, "heading": 90, "fps": 5,
    "zones": [{"name": "gate", "polygon": [[0.1, 0.2], [0.9, 0.2], [0.9, 1.0], [0.1, 1.0]],
               "rules": [{"kind": "intrusion"}, {"kind": "loitering", "seconds": 30},
                         {"kind": "crowd", "min_people": 5, "seconds": 10}, {"kind": "object_left", "seconds": 60},
                         {"kind": "vehicle_stopped", "seconds": 120, "dispatch": "auto"}]}],
    "health": {"offline": 30, "frozen": 10, "covered": 5, "blurred": 10, "moved": 10},
    "calibration": [{"px": [0.5, 0.9], "lonlat": [114.3501, 22.7002]}, {"px": [0.1, 0.9], "lonlat": [114.3499, 22.7002]},
                    {"px": [0.1, 0.5], "lonlat": [114.3499, 22.7006]}, {"px": [0.9, 0.5], "lonlat": [114.3503, 22.7006]}],
}


def test_issue_example_validates_with_defaults():
    cfg = parse_config(EXAMPLE)
    rules = {r.kind: r for r in cfg.zones[0].rules}
    assert rules["crowd"].people == 5 and rules["crowd"].hold_s == 10
    # No matter of its own: which matter an intrusion is filed under is the domain's (grid/camera_matters.py).
    assert rules["intrusion"].hold_s == 0 and rules["intrusion"].matter is None
    assert rules["vehicle_stopped"].dispatch == "auto" and rules["loitering"].dispatch == "manual"
    assert cfg.health.covered == 5


def test_health_defaults_when_absent():
    cfg = parse_config({k: v for k, v in EXAMPLE.items() if k not in ("health", "calibration", "zones")})
    assert (cfg.health.offline, cfg.health.frozen, cfg.health.covered, cfg.health.blurred, cfg.health.moved) == (
        30, 10, 5, 10, 10)
    assert cfg.zones == [] and cfg.calibration == []


def _with(path, value):
    data = json.loads(json.dumps(EXAMPLE))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    "data, where",
    [
        (_with(["zones", 0, "polygon"], [[0.1, 0.1], [1.2, 0.1], [0.5, 0.9]]), "zones.0.polygon"),
        (_with(["zones", 0, "polygon"], [[0, 0], [1, 1], [1, 0], [0, 1]]), "polygon"),
        (_with(["zones", 0, "rules"], [{"kind": "fire"}]), "zones.0.rules.0.kind"),
        (_with(["zones", 0, "rules"], [{"kind": "intrusion", "min_people": 3}]), "min_people"),
        (_with(["zones", 0, "rules"], [{"kind": "crowd", "secs": 3}]), "secs"),
        (_with(["health", "frozen"], -1), "health.frozen"),
        (_with(["calibration"], EXAMPLE["calibration"][:2]), "calibration"),
        (_with(["lon"], 200), "lon"),
        (_with(["url"], "ftp://x/y"), "url"),
        (_with(["color"], "red"), "color"),
    ],
)
def test_bad_configs_name_the_field(data, where):
    with pytest.raises(ConfigError) as info:
        parse_config(data, "cam.json")
    assert where in str(info.value) and "cam.json" in str(info.value)


def test_load_config_reports_json_syntax_line(tmp_path):
    path = tmp_path / "cam.json"
    path.write_text('{\n  "code": "X",\n  "url": oops\n}\n')
    with pytest.raises(ConfigError, match="line 3"):
        load_config(path)


def test_every_field_is_described():
    from video.config import CalibrationPair, CameraConfig, Health, Rule, Zone

    for model in (CameraConfig, Zone, Rule, Health, CalibrationPair):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
