"""`gridwatch camera import`: counting lines travel with a camera exactly as its zones do (issue 14).

A .csv carries `zones`, `lines`, `health` and `calibration` as JSON text; a .json file the objects. What is
imported is stored in `camera.config` and read back by `load_cameras` (the camera worker's read) unchanged;
a bad line refuses the whole file with the row and the field, and nothing is written.
"""

from __future__ import annotations

import argparse
import csv
import io
import json

import psycopg
import pytest

from geodata import cameras, db
from geodata.settings import Settings
from workers.cli import camera_cmd

GATE = {"name": "gate", "polygon": [[0.1, 0.5], [0.5, 0.5], [0.5, 0.9], [0.1, 0.9]],
        "rules": [{"kind": "intrusion"}, {"kind": "object_left", "seconds": 30}]}
DOOR_LINE = {"name": "door", "points": [[0.5, 0.0], [0.5, 0.4], [0.6, 1.0]], "in_side": [0.8, 0.5],
             "classes": ["person"]}
ROAD_LINE = {"name": "road", "points": [[0.0, 0.7], [1.0, 0.7]], "in_side": [0.5, 0.9],
             "classes": ["person", "vehicle"]}


def camera(code: str, **over) -> dict:
    return {"code": code, "name": f"camera {code}", "url": f"rtsp://user:pw@10.0.0.1/{code}", "lon": 114.31,
            "lat": 22.66, "heading": 90.0, "fps": 5.0, "zones": [GATE], "lines": [DOOR_LINE, ROAD_LINE], **over}


def write_csv(path, cams: list[dict]) -> None:
    out = io.StringIO()
    cols = ["code", "name", "url", "lon", "lat", "heading", "fps", "zones", "lines"]
    w = csv.DictWriter(out, cols)
    w.writeheader()
    for c in cams:
        w.writerow({k: json.dumps(c[k]) if k in ("zones", "lines") else c.get(k, "") for k in cols})
    path.write_text(out.getvalue(), encoding="utf-8")


def run_import(url: str, path, capsys) -> tuple[int, str, str]:
    args = argparse.Namespace(path=str(path), replace=False)
    code = camera_cmd.run_import(args, Settings(database_url=url, redis_url="redis://127.0.0.1:1/0"))
    out = capsys.readouterr()
    return code, out.out, out.err


def stored(url: str) -> dict[str, dict]:
    with db.connect(url) as conn:
        return {r.code: r for r in cameras.load_cameras(conn)}


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_lines_round_trip_through_an_import(db_url, tmp_path, capsys, suffix):
    cams = [camera("IMP-1"), camera("IMP-2", lines=[], zones=[])]
    path = tmp_path / f"cams.{suffix}"
    if suffix == "csv":
        write_csv(path, cams)
    else:
        path.write_text(json.dumps({"cameras": cams}), encoding="utf-8")
    code, out, err = run_import(db_url, path, capsys)
    assert code == 0, err
    assert "IMP-1\trtsp://***@10.0.0.1/IMP-1\t1 zone(s)\t2 line(s)" in out
    rows = stored(db_url)
    one = rows["IMP-1"]
    # Stored as the config holds them (defaults filled in), and read back by the worker's read unchanged.
    assert one.raw["config"]["lines"] == [DOOR_LINE, ROAD_LINE]
    assert [ln.model_dump() for ln in one.config.lines] == [DOOR_LINE, ROAD_LINE]
    assert one.config.zones[0].name == "gate" and rows["IMP-2"].config.lines == []
    # And the stored camera exported as a config object imports again to the same thing.
    again = camera("IMP-3", **{k: v for k, v in one.config.model_dump(mode="json").items()
                               if k in ("zones", "lines", "health", "privacy", "calibration")})
    (path2 := tmp_path / "again.json").write_text(json.dumps([again]), encoding="utf-8")
    assert run_import(db_url, path2, capsys)[0] == 0
    three = stored(db_url)["IMP-3"].config
    assert three.lines == one.config.lines and three.zones == one.config.zones
    # `camera list` shows the lines as it shows the zones.
    camera_cmd.run_list(argparse.Namespace(), Settings(database_url=db_url, redis_url="redis://127.0.0.1:1/0"))
    listed = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("IMP-1\t")]
    assert listed and "\t1 zone(s)\t2 line(s)\t" in listed[0]


BAD_LINES = [
    # (the bad line, the field the refusal names)
    ({**ROAD_LINE, "in_side": [0.5, 0.7]}, "lines.1: Value error, in_side must lie off the line"),
    ({**ROAD_LINE, "points": [[0.0, 0.7]]}, "lines.1.points: List should have at least 2 items"),
    ({**ROAD_LINE, "points": [[0.0, 0.7], [1.2, 0.7]]}, "lines.1.points.1.0: Input should be less than or equal to 1"),
    ({**ROAD_LINE, "classes": ["bicycle"]}, "lines.1.classes.0: Input should be 'person' or 'vehicle'"),
    ({**ROAD_LINE, "name": "door"}, "lines: Value error, line names must be unique; repeated: door"),
    ({**ROAD_LINE, "colour": "red"}, "lines.1.colour: Extra inputs are not permitted"),
]


@pytest.mark.parametrize("bad, field", BAD_LINES)
@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_a_bad_line_refuses_the_whole_file_naming_row_and_field(db_url, tmp_path, capsys, suffix, bad, field):
    # The bad camera is the second of three: the good ones before and after it are not written either.
    cams = [camera("IMP-1"), camera("IMP-2", lines=[DOOR_LINE, bad]), camera("IMP-3")]
    path = tmp_path / f"cams.{suffix}"
    if suffix == "csv":
        write_csv(path, cams)
    else:
        path.write_text(json.dumps(cams), encoding="utf-8")
    with psycopg.connect(db_url) as conn:
        before = conn.execute("SELECT count(*) FROM camera").fetchone()[0]
    code, out, err = run_import(db_url, path, capsys)
    assert code == camera_cmd.EXIT_REFUSED and out == ""
    where = "row 2 (line 3) (IMP-2)" if suffix == "csv" else "camera #2 (IMP-2)"
    assert f"invalid camera config {where}:" in err, err
    assert field in err, err
    assert err.rstrip().endswith("nothing was written")
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM camera").fetchone()[0] == before
        assert conn.execute("SELECT count(*) FROM camera WHERE code LIKE 'IMP-%'").fetchone()[0] == 0


def test_a_lines_cell_that_is_not_json_is_named(db_url, tmp_path, capsys):
    path = tmp_path / "cams.csv"
    write_csv(path, [camera("IMP-1"), camera("IMP-2")])
    text = path.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace('"[{""name"": ""door""', '"[{name: door', 1)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    code, _, err = run_import(db_url, path, capsys)
    assert code == camera_cmd.EXIT_REFUSED
    assert "row 2 (line 3): column lines: not JSON" in err, err
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM camera WHERE code LIKE 'IMP-%'").fetchone()[0] == 0
