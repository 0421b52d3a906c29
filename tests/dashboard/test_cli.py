"""`gridwatch dashboard` options and the dashboard config made from the settings."""

from __future__ import annotations

import argparse
import re
import stat
import subprocess
import threading
import uuid
from datetime import datetime, timezone

import psycopg
import pytest
import redis as redis_lib
import requests

from dashboard.config import DashboardSettings, from_settings, secret_from_home
from workers.cli import dashboard_cmd
from geodata.bus import LiveIncident, publish_live
from geodata.settings import Settings
from tests.dashboard import griddata
from tests.dashboard.conftest import cli_dashboard, free_port, stop_cli, wait_cli_ready


def _parse(argv):
    p = argparse.ArgumentParser()
    dashboard_cmd.register(p.add_subparsers(dest="command", required=True))
    return p.parse_args(argv)


def test_defaults_and_tls_options():
    args = _parse(["dashboard"])
    assert (args.host, args.port, args.tls_cert, args.tls_key) == ("127.0.0.1", 8050, None, None)
    args = _parse(["dashboard", "--host", "0.0.0.0", "--port", "8443", "--tls-cert", "c.pem", "--tls-key", "k.pem"])
    assert (args.host, args.port, args.tls_cert, args.tls_key) == ("0.0.0.0", 8443, "c.pem", "k.pem")


def test_half_a_tls_pair_is_refused(capsys):
    args = _parse(["dashboard", "--tls-cert", "c.pem"])
    assert args.func(args, Settings(database_url="postgresql://x/y", redis_url="redis://x")) == 2
    assert "both --tls-cert and --tls-key" in capsys.readouterr().err


def test_config_from_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_TILE_URL", "https://tiles.example/{z}/{x}/{y}.png")
    monkeypatch.setenv("GRIDWATCH_TILE_CRS", "gcj02")
    settings = Settings(database_url="postgresql://db/x", redis_url="redis://r/0", home=tmp_path)
    cfg = from_settings(settings, DashboardSettings(), https=True)
    assert (cfg.tile_url, cfg.tile_crs, cfg.https) == ("https://tiles.example/{z}/{x}/{y}.png", "gcj02", True)
    key_file = tmp_path / "dashboard-secret"
    assert cfg.secret_key == key_file.read_text() and len(cfg.secret_key) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert secret_from_home(tmp_path) == cfg.secret_key  # kept: sessions survive a restart


def test_config_takes_the_web_role_and_says_when_there_is_none(tmp_path, caplog):
    settings = Settings(database_url="postgresql://app@db/x", redis_url="redis://r/0", home=tmp_path,
                        web_database_url="postgresql://gridwatch_dashboard@db/x")
    with caplog.at_level("WARNING", logger="dashboard.config"):
        assert from_settings(settings, DashboardSettings()).database_url == "postgresql://gridwatch_dashboard@db/x"
    assert not caplog.records
    # No web URL for another server: the workers' URL, and a warning that names the setting.
    settings = Settings(database_url="postgresql://app@db/x", redis_url="redis://r/0", home=tmp_path)
    with caplog.at_level("WARNING", logger="dashboard.config"):
        assert from_settings(settings, DashboardSettings()).database_url == "postgresql://app@db/x"
    assert "GRIDWATCH_WEB_DATABASE_URL" in caplog.text


def test_bad_tile_crs_fails_loudly(monkeypatch):
    monkeypatch.setenv("GRIDWATCH_TILE_CRS", "mercator")
    with pytest.raises(ValueError):
        DashboardSettings()


def test_demo_serves_tablets_over_https_with_its_own_certificate(tmp_path, capsys):
    from workers.cli import demo_cmd
    from workers.tls import key_matches

    p = argparse.ArgumentParser()
    demo_cmd.register(p.add_subparsers(dest="command", required=True))
    plain = p.parse_args(["demo"])
    assert plain.tablets is False
    assert demo_cmd._tablet_tls(plain, Settings(home=tmp_path)) is None
    assert demo_cmd.dashboard_argvs(plain, None) == [
        ("dashboard", ["dashboard", "--host", "127.0.0.1", "--port", "8050"])]

    assert demo_cmd.ingest_argvs(plain, ["worker", "ingest"]) == [
        ("ingest", ["worker", "ingest"]), ("ingest-2", ["worker", "ingest"])]
    one = p.parse_args(["demo", "--ingest-workers", "1"])
    assert demo_cmd.ingest_argvs(one, ["worker", "ingest"]) == [("ingest", ["worker", "ingest"])]

    args = p.parse_args(["demo", "--tablets"])
    assert (args.tablet_host, args.tablet_port) == ("0.0.0.0", 8443)
    tls = demo_cmd._tablet_tls(args, Settings(home=tmp_path))
    assert tls.cert == tmp_path / "tls" / "cert.pem" and key_matches(tls.cert, tls.key)
    assert demo_cmd.dashboard_argvs(args, tls) == [
        ("dashboard", ["dashboard", "--host", "127.0.0.1", "--port", "8050"]),
        ("dashboard-tablets", ["dashboard", "--host", "0.0.0.0", "--port", "8443",
                               "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)])]
    # The second process is the same `gridwatch dashboard` command, and its options parse.
    https = _parse(demo_cmd.dashboard_argvs(args, tls)[1][1])
    assert (https.host, https.port, https.tls_cert, https.tls_key) == ("0.0.0.0", 8443, str(tls.cert), str(tls.key))
    assert not demo_cmd._tablet_tls(args, Settings(home=tmp_path)).created  # made once, then reused

    demo_cmd._print_urls(args, tls)
    out = capsys.readouterr().out
    assert "dashboard: http://127.0.0.1:8050/" in out
    lan = [a for a in tls.addresses if a != "127.0.0.1"] or ["127.0.0.1"]
    assert all(f"tablets:   https://{a}:8443/field" in out for a in lan)
    assert tls.fingerprint() in out


def _serve_cli(dash_db, dash_redis, home, *extra, verify=True):
    """`gridwatch dashboard` in a subprocess on a free port; (process, base URL) once /healthz answers."""
    port = free_port()
    base = f"{'https' if '--tls-cert' in extra else 'http'}://127.0.0.1:{port}"
    proc = cli_dashboard(dash_db[0], dash_redis, home, port, *extra)
    wait_cli_ready(proc, lambda: requests.get(base + "/healthz", timeout=2, verify=verify).status_code == 200,
                   "gridwatch dashboard did not answer", step=0.2)
    return proc, base


def test_the_dashboard_command_serves_on_gunicorn_with_sessions_shared_by_its_workers(dash_db, dash_redis, tmp_path):
    proc, base = _serve_cli(dash_db, dash_redis, tmp_path, "--workers", "2")
    try:
        workers = subprocess.run(["ps", "--ppid", str(proc.pid), "-o", "pid="], capture_output=True, text=True)
        assert len(workers.stdout.split()) == 2
        assert requests.get(base + "/healthz", timeout=5).headers["Server"].startswith("gunicorn")
        s = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/login", timeout=10).text).group(1)
        r = s.post(base + "/login", data={"username": "disp1", "password": griddata.PASSWORD, "csrf_token": token},
                   allow_redirects=False, timeout=30)
        assert r.status_code == 303
        # Every request, whichever worker takes it, knows the session.
        assert {s.get(base + "/console", allow_redirects=False, timeout=10).status_code for _ in range(20)} == {200}

        # The live stream: a message published on the bus reaches this browser's open stream.
        got = []
        stream = s.get(base + "/live", stream=True, timeout=10)
        assert stream.status_code == 200
        marker = uuid.uuid4()

        def read():
            # One byte at a time: a bigger chunk waits for that many bytes of a stream that trickles.
            for line in stream.iter_lines(chunk_size=1, decode_unicode=True):
                if line and str(marker) in line:
                    got.append(line)
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        rds = redis_lib.Redis.from_url(dash_redis)
        msg = LiveIncident(at=datetime.now(timezone.utc), id=marker, action="create", status="reported",
                           matter_code="crime_intrusion", priority=1, lon=114.33, lat=22.71,
                           community_code="440310001002", street_code="440310001", queue="verification")
        for _ in range(100):  # the relay subscribes when the stream opens: publish until it is heard
            publish_live(rds, [msg])
            reader.join(0.2)
            if got:
                break
        rds.close()
        stream.close()
        assert got and str(marker) in got[0]

        # Its database connections are the dashboard's own role's, which cannot read the bus signing key.
        with psycopg.connect(dash_db[0]) as conn:
            roles = conn.execute("SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND application_name = 'gridwatch-dashboard'").fetchall()
        assert roles == [("gridwatch_dashboard",)]

        saved = {"gridwatch_session": s.cookies["gridwatch_session"]}
        s.post(base + "/logout", headers={"X-CSRFToken": s.cookies.get("_csrf_token", "")}, timeout=10)
        assert {requests.get(base + "/console", cookies=saved, allow_redirects=False, timeout=10).status_code
                for _ in range(6)} == {303}
    finally:
        out = stop_cli(proc)
    assert "development server" not in out
    assert "workers' database role" not in out


def test_the_dashboard_command_serves_https_for_tablets(dash_db, dash_redis, tmp_path):
    from workers.tls import ensure_self_signed

    tls = ensure_self_signed(tmp_path / "tls")
    proc, base = _serve_cli(dash_db, dash_redis, tmp_path, "--workers", "1", "--tls-cert", str(tls.cert),
                            "--tls-key", str(tls.key), verify=str(tls.cert))
    try:
        r = requests.get(base + "/login", timeout=10, verify=str(tls.cert))
        assert r.status_code == 200 and r.headers["Server"].startswith("gunicorn")
        # Served over TLS, the session cookie is marked Secure.
        assert "Secure" in r.headers["Set-Cookie"]
    finally:
        stop_cli(proc)
