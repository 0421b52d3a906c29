"""`gridwatch analysis report`: the printed period report carries the /reports charts as inline SVG.

Run against the dashboard tests' small seeded grid (tests/dashboard/griddata.py); the numbers drawn are
checked against the street indicators computed on their own (reports_repo.period_indicators).
"""

from __future__ import annotations

import argparse
import re

import pytest

from geodata import db
from geodata.reports_repo import period_incidents, period_indicators
from geodata.settings import Settings
from grid.camera_availability import AVAILABILITY_TARGET
from grid.period import Period
from tests.dashboard.test_reports_charts import _period, _svg_bars
from workers.cli import analysis_cmd


def _cli(url: str, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="gridwatch")
    analysis_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["analysis", *argv])
    return args.func(args, Settings(database_url=url, redis_url="redis://unused"))


def test_analysis_report_draws_the_charts_from_the_indicators(dash_db, tmp_path, capsys):
    url = dash_db[0]
    first, last = _period()
    out = tmp_path / "report.html"
    rc = _cli(url, "report", "--from", first, "--to", last, "--out", str(out))
    text = out.read_text(encoding="utf-8")
    p = Period.from_days(first, last)
    with db.connect(url) as conn:
        streets = period_indicators(conn, p, "street").set_index("code")
        cases = period_incidents(conn, p)
    printed = capsys.readouterr().out
    assert rc == 0 and str(out) in printed
    # Self-contained and script-free, the charts inline: no <img>, no src=, nothing fetched.
    assert "<script" not in text.lower() and "<img" not in text and "src=" not in text and "<link" not in text
    assert text.count("<figure class='chart'>") == 3 and "图表 (charts)" in text
    assert "各街道事件（按任务类别） (cases per street by task family)" in text
    # Cases per street by family: every part from the period's cases, every stack the table's count.
    bars = _svg_bars(text, "cases")
    split = cases.groupby(["family", "street_code"]).size()
    assert bars == {k: float(v) for k, v in split.items()}
    for code, row in streets.iterrows():
        assert sum(v for (_, c), v in bars.items() if c == code) == row["incidents"]
        assert f"<td>{row['incidents']}</td>" in text  # and the same count in the street table
    # On-time closure and camera availability per street, as the indicators have them.
    on_time = _svg_bars(text, "on_time")
    assert on_time == {("on_time_rate", c): pytest.approx(v, abs=1e-6) for c, v in streets["on_time_rate"].items()}
    cams = _svg_bars(text, "cameras")
    for col in ("camera_online_rate", "camera_available_rate"):
        assert {c: v for (s, c), v in cams.items() if s == col} == pytest.approx(streets[col].to_dict(), abs=1e-6)
    # The 98 % target as a line at its height, named in the legend.
    svg = re.search(r'<svg[^>]*data-chart="cameras".*?</svg>', text, re.S).group(0)
    assert f'data-target="{AVAILABILITY_TARGET:g}"' in svg and "目标 (target) 98 %" in svg
