"""`gridwatch dashboard` options and the dashboard config made from the settings."""

from __future__ import annotations

import argparse
import stat

import pytest

from dashboard.config import DashboardSettings, from_settings, secret_from_home
from workers.cli import dashboard_cmd
from geodata.settings import Settings


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
