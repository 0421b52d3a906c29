"""The Dash app: a thin shell over dashboard/pages, built by create_app(config).

Deployment: `gunicorn -k gthread --threads 32 'dashboard.app:server'` (threads, because every wall
holds one server-sent-events stream). Importing this module builds nothing; `server` is made from
the environment on first access, which is the entry point gunicorn uses.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import dash
import flask
import redis
from dash import dcc, html
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from dashboard import access, api, auth, doors, live, open311, routes
from dashboard.pages.reports import routes as reports_routes
from dashboard.config import DashboardConfig
from dashboard.data import TTLCache
from dashboard.i18n import client_strings, t
from dashboard.maps import Display

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
_BUILT: dash.Dash | None = None


def _nav(user: access.SessionUser, lang: str) -> html.Div:
    links = [dcc.Link(t(f"nav.{page}", lang), href=path, className="gw-nav-link", id=f"app-nav-{page}")
             for page, path in access.PAGE_PATHS.items()
             if page != "home" and access.may_open(user.role, page)]
    other = "en" if lang == "zh" else "zh"
    return html.Div([
        html.Span(t("app.title", lang), className="gw-brand"),
        html.Nav(links, className="gw-nav"),
        html.Span(f"{user.username} · {t('role.' + user.role, lang)}", className="gw-who", id="app-who"),
        html.A(t("app.lang_switch", lang), href=f"/lang/{other}?next=/", className="gw-lang", id="app-lang"),
        html.Form([
            dcc.Input(type="hidden", name="csrf_token", value=flask.session.get("csrf", "")),
            html.Button(t("app.logout", lang), type="submit", className="gw-logout", id="app-logout"),
        ], method="post", action="/logout", className="gw-logout-form"),
    ], className="gw-topbar", id="app-topbar")


def shell_layout():
    """The page frame: top bar (hidden on the wall by CSS), strings for scripts, the page container."""
    user = access.current_user()
    lang = auth.lang()
    if user is None:
        # Dash asks for the layout before any page; without a login there is nothing to show.
        return html.Div(dcc.Location(id="app-to-login", href="/login"))
    return html.Div([
        dcc.Location(id="app-url", refresh=False),
        html.Div(id="app-strings", **{"data-strings": json.dumps(client_strings(lang), ensure_ascii=False),
                                       "data-lang": lang, "data-role": user.role}),
        _nav(user, lang),
        html.Main(dash.page_container, className="gw-main"),
    ], className=f"gw-shell gw-role-{user.role}", lang="zh-CN" if lang == "zh" else "en")


def warm(app: dash.Dash) -> None:
    """Do Dash's first-request set-up now, before the process serves anything.

    Dash runs it as before-request hooks on the first request it sees (callbacks copied into the app,
    the pages' router callback added, the component-suite paths registered), behind a flag set before
    the work is done: on a threaded server the other first requests go on with half a set-up and fail
    ("dictionary changed size during iteration", a 500 on react-dom). Run here, in the one thread the
    process has while it builds the app, every request finds it done.
    """
    hooks = [f for f in app.server.before_request_funcs.get(None, ())
             if getattr(f, "__qualname__", "").startswith("Dash.")]
    with app.server.test_request_context("/"):
        for hook in hooks:
            hook()
    # Loud at start rather than a 500 later, should another Dash version do its set-up differently.
    if not all(app._got_first_request.values()):
        raise RuntimeError(f"Dash's first-request set-up did not run: {app._got_first_request}")


def create_app(cfg: DashboardConfig, *, dev_tools: bool = False) -> dash.Dash:
    """Build the one Dash app of this process against the given database, Redis and options, set up
    for serving (see warm); `dev_tools`: Dash's debug tools (never on a shared network)."""
    global _BUILT
    if _BUILT is not None:
        # Dash keeps pages and callbacks in process-wide registries: one app per process.
        raise RuntimeError("create_app was already called in this process")
    server = flask.Flask("gridwatch-dashboard")
    server.config["GRIDWATCH"] = cfg
    server.config["GRIDWATCH_POOL"] = ConnectionPool(
        cfg.database_url, min_size=1, max_size=10, open=True,
        # Named, so pg_stat_activity tells the dashboard's connections (and their role) from the workers'.
        kwargs={"row_factory": dict_row, "application_name": "gridwatch-dashboard"},
        name="dashboard")
    server.config["GRIDWATCH_REDIS"] = redis.Redis.from_url(cfg.redis_url, socket_timeout=5)
    server.config["GRIDWATCH_HUB"] = live.LiveHub(cfg.redis_url)
    server.config["GRIDWATCH_DISPLAY"] = Display(cfg.tile_crs)
    server.config["GRIDWATCH_CACHE"] = TTLCache(60.0)
    server.config["GRIDWATCH_ASSETS"] = str(HERE / "assets")
    server.config["MAX_CONTENT_LENGTH"] = 12 * 1024 * 1024  # photos up to 10 MB plus form overhead
    auth.install(server, cfg)
    server.register_blueprint(live.bp)
    server.register_blueprint(routes.bp)
    server.register_blueprint(reports_routes.bp)
    # Machine APIs: they authenticate each request themselves (bearer token, Open311 api_key).
    server.register_blueprint(api.bp)
    open311.install(server, cfg)  # with its rate limits
    # Their own 404/405 and error format, and no NUL byte in any field (dashboard/doors.py).
    doors.install(server)
    app = dash.Dash(
        __name__, server=server, use_pages=True, pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"), assets_ignore=r"field-sw\.js$", serve_locally=True, title=t("app.title", cfg.default_lang),
        update_title=None, suppress_callback_exceptions=True, compress=False,
    )
    app.layout = shell_layout
    if dev_tools:
        app.enable_dev_tools(debug=True, dev_tools_hot_reload=False)
    warm(app)
    _BUILT = app
    logger.info("dashboard app built (tiles: %s, %s)", cfg.tile_url or "none", cfg.tile_crs)
    return app


def _from_environment() -> dash.Dash:
    from dashboard.config import DashboardSettings, from_settings
    from geodata import settings as settings_mod

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(from_settings(settings_mod.load(), DashboardSettings()))


def __getattr__(name: str):
    # `dashboard.app:server` (gunicorn) and `dashboard.app:app` are built on first access only.
    if name in ("app", "server"):
        app = _BUILT or _from_environment()
        return app if name == "app" else app.server
    raise AttributeError(name)
