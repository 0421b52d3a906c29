"""Login, logout, session rules, CSRF protection and login rate limiting on the Flask server."""

from __future__ import annotations

import hmac
import html
import logging
import secrets
from urllib.parse import urlsplit

import flask

from dashboard import access, doors, login_limit, sessions
from dashboard.i18n import LANGS, t
from geodata import users

logger = logging.getLogger(__name__)

bp = flask.Blueprint("auth", __name__)

ANONYMOUS_TTL_S = 1800  # a session before login holds only the CSRF token and the language
CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads to send X-CSRFToken
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def lang() -> str:
    """The language of this request: the session's choice, else the configured default.

    A bearer-token client has no session to switch, so its Accept-Language header chooses; browsers'
    headers are ignored, so a wall PC with an English system still speaks Chinese by default.
    """
    chosen = flask.session.get("lang")
    if not chosen and flask.g.get("api_user") is not None:
        chosen = flask.request.accept_languages.best_match(LANGS)
    return chosen or flask.current_app.config["GRIDWATCH"].default_lang


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    tok = flask.session.get("csrf")
    if not tok:
        tok = secrets.token_urlsafe(32)
        flask.session["csrf"] = tok
    return tok


def _login_page(message: str = "", status: int = 200, nxt: str = "/"):
    lg = lang()
    other = "en" if lg == "zh" else "zh"
    body = f"""<!doctype html><html lang="{'zh-CN' if lg == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(t('login.title', lg))} · {html.escape(t('app.title', lg))}</title>
<link rel="stylesheet" href="/assets/gridwatch.css"></head>
<body class="gw-login-body"><form method="post" action="/login" class="gw-login" id="login-form">
<h1>{html.escape(t('app.title', lg))}</h1>
<input type="hidden" name="csrf_token" value="{csrf_token()}">
<input type="hidden" name="next" value="{html.escape(nxt)}">
<label>{html.escape(t('login.username', lg))}<input name="username" id="login-username" autocomplete="username" required></label>
<label>{html.escape(t('login.password', lg))}<input name="password" id="login-password" type="password" autocomplete="current-password" required></label>
<p class="gw-login-error" id="login-error">{html.escape(message)}</p>
<button type="submit" id="login-submit">{html.escape(t('login.submit', lg))}</button>
<a class="gw-lang" href="/login?lang={other}">{html.escape(t('app.lang_switch', lg))}</a>
</form></body></html>"""
    return flask.Response(body, status=status, mimetype="text/html")


def _safe_next(nxt: str | None) -> str | None:
    # Only local paths: a crafted next= must not send a freshly logged-in user elsewhere.
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or urlsplit(nxt).netloc:
        return None
    return nxt


@bp.route("/login", methods=["GET", "POST"])
@access.route_guard("/login")
def login():
    """The login form; POST checks the rate limit, then the password, then starts the session."""
    if flask.request.args.get("lang") in ("zh", "en"):
        flask.session["lang"] = flask.request.args["lang"]
    nxt = _safe_next(flask.request.values.get("next")) or "/"
    if flask.request.method == "GET":
        return _login_page(nxt=nxt)
    username = (flask.request.form.get("username") or "").strip()
    password = flask.request.form.get("password") or ""
    app = flask.current_app
    r = app.config["GRIDWATCH_REDIS"]
    address = flask.request.remote_addr or "?"
    # Counted before verifying, in one step: parallel guesses cannot slip past the limit.
    if not login_limit.take_attempt(r, username, address):
        logger.warning("login of %s from %s refused: rate limited", username, address)
        return _login_page(t("login.limited", lang(), minutes=login_limit.WINDOW_S // 60), 429, nxt)
    with app.config["GRIDWATCH_POOL"].connection() as conn:
        user = users.verify_user(conn, username, password)
    if user is None:
        logger.info("failed login of %s from %s", username, address)
        return _login_page(t("login.bad", lang()), 401, nxt)
    login_limit.give_back(r, username, address)
    chosen = flask.session.get("lang")
    flask.session.clear()
    flask.session.renew()  # a new session id on login: no fixation
    # Only who: role, scope and the enabled flag are read from app_user on every request.
    flask.session["user_id"] = user.id
    flask.session["username"] = user.username
    flask.session["role"] = user.role  # chooses the idle timeout only, never a permission
    if chosen:
        flask.session["lang"] = chosen
    csrf_token()
    logger.info("login of %s (%s) from %s", user.username, user.role, address)
    target = nxt if nxt != "/" else access.LANDING.get(user.role, "/")
    return flask.redirect(target, code=303)


@bp.route("/logout", methods=["POST"])
@access.route_guard("/logout")
def logout():
    """End the session: its record is deleted, so a saved copy of the cookie is worth nothing."""
    user = access.current_user()
    flask.session.end()
    logger.info("logout of %s from %s", user.username if user else "?", flask.request.remote_addr)
    return flask.redirect("/login", code=303)


@bp.route("/lang/<lang_code>")
@access.route_guard("/lang/<lang_code>")
def set_lang(lang_code: str):
    """Switch the language of this session and go back."""
    if lang_code in ("zh", "en"):
        flask.session["lang"] = lang_code
    return flask.redirect(_safe_next(flask.request.args.get("next")) or "/", code=303)


@bp.route("/healthz")
@access.route_guard("/healthz")
def healthz():
    """Liveness for monitoring."""
    return {"ok": True}


def _csrf_ok() -> bool:
    expected = flask.session.get("csrf")
    sent = flask.request.headers.get("X-CSRFToken") or flask.request.form.get("csrf_token")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        return False
    origin = flask.request.headers.get("Origin")
    # A foreign Origin is refused even with a token; absent Origin (old clients) relies on the token.
    return origin is None or urlsplit(origin).netloc == flask.request.host


def before_request():
    """Static files pass; unsafe methods need the CSRF token; everything else needs a fitting login.

    The session's idle timeout is its Redis TTL (dashboard/sessions.py): an expired session is simply
    unknown here.
    """
    path = flask.request.path
    if path.startswith(access.STATIC_PREFIXES) or path.startswith(access.API_PREFIXES):
        return None
    had_login = flask.session.get("user_id") is not None
    user = access.current_user()
    if flask.request.method in _UNSAFE and user is None and path != "/login":
        # Who before CSRF: every unsafe route but the login form needs an account, and a session that
        # just ended (logout, idle timeout, account disabled) has no CSRF token left to match, so the
        # CSRF refusal would name the wrong reason. 401 tells the page to log in again.
        cookie = flask.current_app.config["SESSION_COOKIE_NAME"] in flask.request.cookies
        lapsed = had_login or (cookie and getattr(flask.session, "new", False))
        key = "api.session_ended" if lapsed else "api.login_required"
        logger.warning("%s %s refused: %s", flask.request.method, path,
                       "the session is no longer valid" if lapsed else "no login")
        if path.startswith("/field/api/"):
            return doors.tablet_error(401, key)
        return flask.Response(t(key, lang()), status=401)
    if flask.request.method in _UNSAFE and not _csrf_ok():
        logger.warning("CSRF check failed for %s %s", flask.request.method, path)
        if path == "/login":
            flask.session.pop("csrf", None)
            return _login_page(t("login.csrf", lang()), 403)
        if path.startswith("/field/api/"):
            return doors.tablet_error(403, "api.csrf")  # the tablet's script reads its door's JSON
        return flask.Response(t("api.csrf", lang()), status=403)
    if path.startswith(access.DASH_LOGIN_PREFIXES):
        return None if user else flask.Response(t("api.login_required", lang()), status=401)
    page = access.page_of_path(path)
    if page is not None:
        if user is None:
            return flask.redirect(f"/login?next={path}", code=303)
        if page == "home":
            return flask.redirect(access.LANDING.get(user.role, "/login"), code=303)
        if not access.may_open(user.role, page):
            return flask.Response(html.escape(t("app.forbidden", lang())), status=403, mimetype="text/html")
        return None
    # Known Flask routes guard themselves; any other path serves the Dash shell, so needs a login.
    rule = flask.request.url_rule.rule if flask.request.url_rule is not None else None
    if rule in access.ROUTE_ROLES:
        return None
    if user is None:
        return flask.redirect(f"/login?next={path}", code=303)
    return None


def after_request(resp: flask.Response) -> flask.Response:
    """Hand the CSRF token to dash-renderer (cookie it reads) and set protective headers."""
    cfg = flask.current_app.config["GRIDWATCH"]
    tok = flask.session.get("csrf")
    if tok and flask.request.cookies.get(CSRF_COOKIE) != tok:
        # Readable by page scripts on purpose (double submit); SameSite keeps it off other sites.
        resp.set_cookie(CSRF_COOKIE, tok, samesite="Strict", secure=cfg.https, httponly=False)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    return resp


def idle_seconds(cfg, session) -> int:
    """The idle timeout of this session: its role's (the wall's is longer), short before login."""
    # The account as read this request, so a changed role counts at once; else the role at login.
    user = flask.g.get("gw_user")
    role = user.role if user is not None else session.get("role")
    if role is None:
        return ANONYMOUS_TTL_S
    return (cfg.wall_idle_minutes if role == "wall" else cfg.session_idle_minutes) * 60


def install(server: flask.Flask, cfg) -> None:
    """Configure server-side sessions and register the login routes and request hooks."""
    server.secret_key = cfg.secret_key
    server.config.update(
        SESSION_COOKIE_NAME="gridwatch_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg.https,
    )
    server.session_interface = sessions.RedisSessionInterface(
        server.config["GRIDWATCH_REDIS"], lambda session: idle_seconds(cfg, session))
    server.register_blueprint(bp)
    server.before_request(before_request)
    server.after_request(after_request)
