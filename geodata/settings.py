"""Settings, read once in entry points (prefix GRIDWATCH_) and handed down as objects."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The checkout (or install) root: .gridwatch/ lives beside pyproject.toml.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything a gridwatch process may be told from outside."""

    model_config = SettingsConfigDict(env_prefix="GRIDWATCH_", extra="ignore")

    database_url: str | None = Field(None, description="PostgreSQL/PostGIS URL; private cluster when unset")
    redis_url: str | None = Field(None, description="Redis URL; private server when unset")
    web_database_url: str | None = Field(
        None, description="the dashboard's PostgreSQL URL, as role gridwatch_dashboard (migration 0020: no "
        "bus signing key); recorded by the private cluster; the workers' URL when unset, with a warning")
    home: Path = Field(PROJECT_ROOT / ".gridwatch", description="state directory: services.json, manifests")
    media_dir: Path | None = Field(None, description="snapshots, clips and photos; default HOME/media")
    timezone: str = Field("Asia/Shanghai", description="days, weeks and reports are counted in this zone")

    @property
    def services_file(self) -> Path:
        return self.home / "services.json"

    @property
    def media_path(self) -> Path:
        return self.media_dir or (self.home / "media")

    def resolved(self) -> "Settings":
        """Fill unset URLs from the private services recorded by `gridwatch services up`."""
        if self.database_url and self.redis_url:
            return self
        # An explicit database URL is another server: the private cluster's web URL is not for it.
        own_db = self.database_url is None
        recorded = {}
        if self.services_file.exists():
            recorded = json.loads(self.services_file.read_text())
        return self.model_copy(
            update={
                "database_url": self.database_url or recorded.get("database_url"),
                "redis_url": self.redis_url or recorded.get("redis_url"),
                "web_database_url": self.web_database_url
                or (recorded.get("web_database_url") if own_db else None),
            }
        )

    def require_database(self) -> str:
        url = self.resolved().database_url
        if not url:
            raise SystemExit(
                "no database: set GRIDWATCH_DATABASE_URL or run `gridwatch services up` first"
            )
        return url

    def web_database(self) -> tuple[str, bool]:
        """The dashboard's database URL, and whether it is a role of its own (False: the workers' URL)."""
        url = self.resolved().web_database_url
        return (url, True) if url else (self.require_database(), False)

    def require_redis(self) -> str:
        url = self.resolved().redis_url
        if not url:
            raise SystemExit("no Redis: set GRIDWATCH_REDIS_URL or run `gridwatch services up` first")
        return url


def load() -> Settings:
    """Read the environment once; only entry points call this."""
    return Settings()
