"""`gridwatch dashboard` options and the dashboard config made from the settings."""

from __future__ import annotations

import argparse
import stat

import pytest

from dashboard.config import DashboardSettings, from_settings, secret_from_home
from workers.cli import dashboard_cmd
from workers.settings import Settings


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
