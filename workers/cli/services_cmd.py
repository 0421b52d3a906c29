"""gridwatch services up|down|status."""

from __future__ import annotations

import json

from workers.services import PrivateServices, ServiceError


def register(sub) -> None:
    p = sub.add_parser("services", help="start, stop or show the PostgreSQL and Redis servers")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    external = bool(settings.database_url and settings.redis_url)
    private = PrivateServices(settings.home)
    try:
        if args.action == "up":
            if external:
                info = {"database_url": settings.database_url, "redis_url": settings.redis_url, "private": False}
            else:
                info = private.up()
                info = {
                    "database_url": settings.database_url or info["database_url"],
                    "redis_url": settings.redis_url or info["redis_url"],
                    "private": True,
                }
        elif args.action == "down":
            if not external:
                private.down()
            info = {"database_url": None, "redis_url": None}
        else:
            st = private.status()
            info = {
                "database_url": settings.database_url or st["database_url"],
                "redis_url": settings.redis_url or st["redis_url"],
            }
    except ServiceError as exc:
        print(f"gridwatch services: {exc}")
        return 1
    if args.json:
        print(json.dumps({"database_url": info["database_url"], "redis_url": info["redis_url"]}))
    else:
        for key in ("database_url", "redis_url"):
            print(f"{key}: {info[key] or 'not running'}")
    if args.action == "status" and not (info["database_url"] and info["redis_url"]):
        return 1
    return 0
