"""Who may read: everyone on 127.0.0.1 (the default binding); anywhere else only with the web
token, sent as `Authorization: Bearer TOKEN` or in the `monitor_token` cookie. A browser
asking for a page without it is sent to /login, whose form sets the cookie once the token is
right; a program (the API, Atom feeds) gets 401 in JSON.

Who may write (save a profile, give feedback): only a holder of the token, wherever the
application listens; with no token configured nothing can be written. A write carried by the
cookie must also come from this site's own pages: its Origin, and the CSRF field (or
X-CSRF-Token header) that only those pages hold."""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import parse_qs, urlencode

from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp

from monitor.errors import ConfigError
from monitor.web.errors import error
from monitor.web.render import is_api_path, page

COOKIE = "monitor_token"
USER_COOKIE = "monitor_user"  # the name given at sign-in, recorded with what one saves
CSRF_FIELD, CSRF_HEADER = "csrf", "x-csrf-token"
USER_HEADER = "x-monitor-user"  # who a script says it is (recorded, not trusted for access)
OPEN = ("/healthz", "/metrics")  # what orchestrators and Prometheus ask without a token
LOGIN = "/login"
STATIC = "/static/"  # the stylesheet: the sign-in form is styled before anyone signs in
SIGNED = "/feedback/"  # an alert's feedback links: the signature is the permission
FORM_LIMIT = 8192  # bytes of a sign-in form (a token and a path)


def check_binding(host: str, token: str | None) -> None:
    """Binding anywhere but loopback needs a token: refuse to start without one."""
    if token or loopback(host):
        return
    raise ConfigError(
        f"web: serving on {host} needs web.token (MONITOR_WEB_TOKEN): without it anyone who "
        "reaches the port reads the archive; set one, or keep the default host 127.0.0.1"
    )


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TokenRequired(BaseHTTPMiddleware):
    """Lets through a request holding the token (compared in constant time), the open paths
    and the sign-in form; sends a browser asking for a page to /login; answers 401 (JSON)
    to anything else. Signing in (POST /login) is answered here, where the token is known."""

    def __init__(self, app: ASGIApp, token: str, *, reads_open: bool = False) -> None:
        super().__init__(app)
        self._token = token.encode()
        self._reads_open = reads_open  # on loopback: reading needs no token, writing does

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if path == LOGIN and request.method == "POST":
            return await self._sign_in(request)
        if (
            self._reads_open
            or path in OPEN
            or path == LOGIN
            or path.startswith((STATIC, SIGNED))
            or self._holds(request)
        ):
            return await call_next(request)
        if request.method in ("GET", "HEAD") and not is_api_path(path):
            here = f"{path}?{request.url.query}" if request.url.query else path
            return RedirectResponse(f"{LOGIN}?{urlencode({'next': here})}", status_code=303)
        return error(401, "a token is required: Authorization: Bearer <web.token>")

    def _holds(self, request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        sent = given if scheme.lower() == "bearer" else request.cookies.get(COOKIE, "")
        return self._matches(sent)

    def _matches(self, sent: str) -> bool:
        return hmac.compare_digest(sent.encode(), self._token)

    async def _sign_in(self, request: Request) -> Response:
        """The form's token right: the cookie, and on to the page asked for (a path on this
        site only); wrong: the form again, 401. A form posted from another site is refused."""
        if not same_origin(request):
            problem = "Refused: this form was sent from another site."
            return page(request, "login.html", 403, next="/", problem=problem)
        fields = await small_form(request)
        if fields is None:
            return error(413, "a sign-in form holds a token and a path, nothing bigger")
        next_path = local_path(fields.get("next", "/"))
        if not self._matches(fields.get("token", "")):
            return page(request, "login.html", 401, next=next_path, problem="Wrong token.")
        signed_in = RedirectResponse(next_path, status_code=303)
        secure = request.url.scheme == "https"
        signed_in.set_cookie(
            COOKIE,
            self._token.decode(),
            httponly=True,  # no script reads it
            samesite="strict",  # no other site's link or form sends it
            secure=secure,
        )
        name = printable_name(fields.get("name", ""))
        if name:
            signed_in.set_cookie(USER_COOKIE, name, httponly=True, samesite="strict", secure=secure)
        return signed_in


def same_origin(request: Request) -> bool:
    """Whether a POST comes from this site's own pages: the browser does not call it cross-
    or same-site (another origin), and its Origin header, when sent, is this site's origin
    ("null", which no-referrer policies send, is not)."""
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def local_path(target: str) -> str:
    """`target` when it is a path on this site ("/hits?profile=gfw"), else "/": a sign-in
    never sends anyone to another host. Browsers read "//host", "/\\host" and "/<tab>/host"
    (tabs and line breaks dropped) as another host; a scheme ("https:", "javascript:") does
    not start with "/"."""
    local = (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and all(" " <= ch != "\x7f" for ch in target)
    )
    return target if local else "/"


async def small_form(
    request: Request, max_fields: int = 16, limit: int = FORM_LIMIT
) -> dict[str, str] | None:
    """The fields of a url-encoded form body (the first value of each), read before any
    token is checked; None when the body is larger than `limit` bytes or holds more than
    `max_fields` fields."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=max_fields)
    except ValueError:
        return None
    return {name: values[0] for name, values in fields.items()}


def printable_name(name: str) -> str:
    """A name someone gave for themselves, as recorded: visible ASCII and spaces, at most 60
    characters (it travels in a cookie and a header)."""
    kept = "".join(ch for ch in name if " " <= ch <= "~").strip()
    return kept[:60]


def csrf_token(token: str) -> str:
    """The value this site's forms carry in their CSRF field: derived from the web token, so
    every instance sharing the token agrees, and no page of another site can know it."""
    return hmac.new(token.encode(), b"monitor csrf", "sha256").hexdigest()[:40]


async def writer(request: Request) -> str:
    """Who is writing (a FastAPI dependency of every route that changes something): the name
    given at sign-in or in X-Monitor-User, else "token holder". Raises 403 when no token is
    configured, 401 without the token, 403 for a cookie-carried write from another site or
    without the CSRF field."""
    token: str | None = request.app.state.token
    if not token:
        raise HTTPException(
            403,
            "writing is turned off: it needs web.token (MONITOR_WEB_TOKEN) set, even on "
            "127.0.0.1; set one, restart, and sign in at /login",
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "wrong token: Authorization: Bearer <web.token>")
        return printable_name(request.headers.get(USER_HEADER, "")) or "token holder"
    if not hmac.compare_digest(request.cookies.get(COOKIE, "").encode(), token.encode()):
        raise HTTPException(
            401,
            "changing anything needs the web token: sign in at /login, or send "
            "Authorization: Bearer <web.token>",
        )
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(_FORMS):
        sent = str((await request.form()).get(CSRF_FIELD, ""))
    if not same_origin(request) or not hmac.compare_digest(
        (sent or "").encode(), csrf_token(token).encode()
    ):
        raise HTTPException(
            403, "refused: this change did not come from this site's own pages (CSRF check)"
        )
    return printable_name(request.cookies.get(USER_COOKIE, "")) or "token holder"


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
