"""The dashboard's own settings (prefix GRIDWATCH_), read only in entry points and handed down."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from geodata.camera_frames import WATCH_TTL_S

logger = logging.getLogger(__name__)


class DashboardSettings(BaseSettings):
    """Map tiles, sessions and language; everything else comes from geodata.settings.Settings."""

    model_config = SettingsConfigDict(env_prefix="GRIDWATCH_", extra="ignore")

    tile_url: str | None = Field(None, description="XYZ tile URL template; none draws the dark outline basemap")
    tile_crs: str = Field("wgs84", pattern="^(wgs84|gcj02)$", description="coordinate system of the tiles")
    tile_attribution: str = Field("", description="attribution shown for the tiles")
    secret_key: str | None = Field(None, description="Flask secret key; default a key file in HOME")
    session_idle_minutes: int = Field(720, gt=0, description="idle timeout of every role but the wall")
    wall_idle_minutes: int = Field(43200, gt=0, description="idle timeout of the wall's session (30 days)")
    default_lang: str = Field("zh", pattern="^(zh|en)$", description="language before a user chooses")
    open311_rate_per_key: str = Field("60/minute", description="Open311 requests per API key (Flask-Limiter notation)")
    open311_rate_per_address: str = Field("600/minute", description="Open311 requests per client address")
    live_watch_ttl_s: int = Field(WATCH_TTL_S, ge=2, description="seconds a live view's watch key outlives its "
                                  "last refresh (refreshed every third of it): how long a camera worker keeps "
                                  "sending frames after a view dies")


@dataclass(frozen=True)
class DashboardConfig:
    """What create_app needs, resolved: URLs, secret, tiles, media."""

    database_url: str
    redis_url: str
    secret_key: str
    media_dir: Path
    timezone: str = "Asia/Shanghai"
    tile_url: str | None = None
    tile_crs: str = "wgs84"
    tile_attribution: str = ""
    session_idle_minutes: int = 720
    # The wall is watched, not clicked: its session lasts through long quiet stretches.
    wall_idle_minutes: int = 43200
    default_lang: str = "zh"
    # Behind TLS the session cookie is marked Secure.
    https: bool = False
    # Open311 is public: every client address, and every API key on POST, gets a fixed window.
    open311_rate_per_key: str = "60/minute"
    open311_rate_per_address: str = "600/minute"
    # A live view's watch key lives this long unrefreshed; short only in tests that wait for it to lapse.
    live_watch_ttl_s: int = WATCH_TTL_S


def secret_from_home(home: Path) -> str:
    """The session key kept in HOME/dashboard-secret (0600), made once so sessions survive restarts."""
    path = home / "dashboard-secret"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    logger.info("made a new session key in %s", path)
    return key


def from_settings(settings, dash_settings: DashboardSettings, *, https: bool = False) -> DashboardConfig:
    """Combine the process settings and the dashboard's own into one config (entry points only)."""
    resolved = settings.resolved()
    database_url, own_role = settings.web_database()
    if not own_role:
        logger.warning("the dashboard connects with the workers' database role, which can read the bus "
                       "signing key: set GRIDWATCH_WEB_DATABASE_URL to role gridwatch_dashboard "
                       "(docs/security.md)")
    return DashboardConfig(
        database_url=database_url,
        redis_url=settings.require_redis(),
        secret_key=dash_settings.secret_key or secret_from_home(resolved.home),
        media_dir=resolved.media_path,
        timezone=resolved.timezone,
        tile_url=dash_settings.tile_url,
        tile_crs=dash_settings.tile_crs,
        tile_attribution=dash_settings.tile_attribution,
        session_idle_minutes=dash_settings.session_idle_minutes,
        wall_idle_minutes=dash_settings.wall_idle_minutes,
        default_lang=dash_settings.default_lang,
        https=https,
        open311_rate_per_key=dash_settings.open311_rate_per_key,
        open311_rate_per_address=dash_settings.open311_rate_per_address,
        live_watch_ttl_s=dash_settings.live_watch_ttl_s,
    )
