"""Who may call the hub, and how often.

- People log in to the console (scrypt-hashed passwords, signed session cookie, roles
  ``viewer`` < ``operator`` < ``admin``). Every state-changing request made with a session
  cookie must carry the session's CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``).
- Machines use an API key (``X-API-Key: <client_id>.<secret>`` or as a Bearer token) or the
  OAuth2 client-credentials grant (``POST /oauth/token``, RFC 6749 section 4.4) for a signed
  Bearer access token. Clients carry scopes: ``read``, ``operate``, ``admin``.
- Every principal has a token bucket; an empty bucket answers 429 with ``Retry-After``.

Routes declare what they need with ``Depends(require("operate"))``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.concurrency import run_in_threadpool

from pshub.bootstrap import Container
from pshub.store import ops_tables, repos

log = structlog.get_logger("pshub.security")

SESSION_COOKIE = "pshub_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "operator": frozenset({"read", "operate"}),
    "admin": frozenset({"read", "operate", "admin"}),
}
SCOPES = ROLE_SCOPES["admin"]
DEFAULT_ADMIN_PASSWORD = "pshub-admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SecuritySettings(BaseSettings):
    """Access-control settings (``PSHUB_`` env prefix, like the hub's Settings)."""

    model_config = SettingsConfigDict(env_prefix="PSHUB_", extra="ignore")

    admin_user: str = "admin"
    admin_password: str | None = None  # None: the demo default, with a warning
    session_secret: str | None = None  # None: generated once, kept in data_dir/session.key
    session_max_age_seconds: int = 8 * 3600
    cookie_secure: bool = False  # set behind TLS
    token_ttl_seconds: int = 3600
    metrics_token: str | None = None  # when set, /metrics needs "Bearer <token>"
    user_rate_per_minute: int = 1200
    user_burst: int = 200


# --- secrets ---------------------------------------------------------------------------------


def hash_password(password: str, *, n: int = 2**14) -> str:
    """scrypt (RFC 7914) with a random salt; parameters are stored beside the hash."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, dklen=32)
    return f"scrypt${n}$8$1${_b64(salt)}${_b64(digest)}"


def hash_api_secret(secret: str) -> str:
    """API secrets are 256 random bits, so a fast hash suffices (no dictionary to guess)."""
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def verify_secret(given: str, stored: str) -> bool:
    scheme, _, rest = stored.partition("$")
    if scheme == "sha256":
        return hmac.compare_digest(hash_api_secret(given), stored)
    if scheme == "scrypt":
        n, r, p, salt, digest = rest.split("$")
        actual = hashlib.scrypt(
            given.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
        return hmac.compare_digest(actual, _unb64(digest))
    return False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- principals and throttling ---------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``name`` is what the audit trail records as the actor."""

    name: str
    kind: str  # user | client
    role: str | None
    scopes: frozenset[str]
    csrf: str | None = None  # set for cookie sessions only
    rate_per_minute: int = 600
    burst: int = 60

    def can(self, scope: str) -> bool:
        return scope in self.scopes


class TokenBucket:
    """Per-key token buckets: ``rate_per_minute`` refill, up to ``burst`` at once."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate_per_minute: int, burst: int) -> float | None:
        """Spend one token; None when allowed, else seconds until one is available."""
        rate = rate_per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, last = self._state.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return None
            self._state[key] = (tokens, now)
            return (1 - tokens) / rate if rate > 0 else 60.0


class Security:
    """Signing keys, settings and buckets of one app (kept on ``app.state.security``)."""

    def __init__(self, c: Container, settings: SecuritySettings) -> None:
        self.c = c
        self.settings = settings
        secret = settings.session_secret or _stored_secret(c.settings.data_dir / "session.key")
        self.sessions = URLSafeTimedSerializer(secret, salt="pshub.session")
        self.tokens = URLSafeTimedSerializer(secret, salt="pshub.oauth")
        self.buckets = TokenBucket()

    # sessions

    def session_cookie(self, user: ops_tables.ConsoleUser) -> str:
        data = {"u": user.username, "c": secrets.token_urlsafe(24), "h": _fp(user.password_hash)}
        return self.sessions.dumps(data)

    def from_session(self, cookie: str) -> Principal | None:
        try:
            data = self.sessions.loads(cookie, max_age=self.settings.session_max_age_seconds)
        except BadSignature:
            return None
        with self.c.db.session() as s:
            user = ops_tables.find_user(s, str(data.get("u")))
            # A changed password or a disabled account ends every session at once.
            if user is None or user.disabled or _fp(user.password_hash) != data.get("h"):
                return None
            return self._user_principal(user, str(data.get("c")))

    def _user_principal(self, user: ops_tables.ConsoleUser, csrf: str | None) -> Principal:
        return Principal(
            name=user.username,
            kind="user",
            role=user.role,
            scopes=ROLE_SCOPES[user.role],
            csrf=csrf,
            rate_per_minute=self.settings.user_rate_per_minute,
            burst=self.settings.user_burst,
        )

    def login(self, username: str, password: str) -> ops_tables.ConsoleUser | None:
        with self.c.db.session() as s:
            user = ops_tables.find_user(s, username)
            ok = user is not None and not user.disabled
            ok = verify_secret(password, user.password_hash) if ok and user else False
            repos.audit(s, action="console.login" if ok else "console.login_failed", actor=username)
            return user if ok else None

    # machine clients

    def from_api_key(self, key: str) -> Principal | None:
        client_id, _, secret = key.partition(".")
        with self.c.db.session() as s:
            row = ops_tables.find_client(s, client_id)
            if row is None or row.disabled or not verify_secret(secret, row.secret_hash):
                return None
            return _client_principal(row, frozenset(row.scopes))

    def from_access_token(self, token: str) -> Principal | None:
        try:
            data = self.tokens.loads(token, max_age=self.settings.token_ttl_seconds)
        except BadSignature:
            return None
        with self.c.db.session() as s:
            row = ops_tables.find_client(s, str(data.get("c")))
            if row is None or row.disabled:
                return None
            return _client_principal(row, frozenset(data.get("s", [])) & frozenset(row.scopes))

    def issue_token(self, client: ops_tables.ApiClient, scopes: frozenset[str]) -> str:
        return "psat_" + self.tokens.dumps({"c": client.client_id, "s": sorted(scopes)})

    def authenticate(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
        key = request.headers.get("x-api-key")
        if bearer and bearer.startswith("psat_"):
            return self.from_access_token(bearer[5:])
        if bearer or key:
            return self.from_api_key(bearer or key or "")
        cookie = request.cookies.get(SESSION_COOKIE)
        return self.from_session(cookie) if cookie else None


def _client_principal(row: ops_tables.ApiClient, scopes: frozenset[str]) -> Principal:
    return Principal(
        name=f"client:{row.client_id}",
        kind="client",
        role=None,
        scopes=scopes,
        rate_per_minute=row.rate_per_minute,
        burst=row.burst,
    )


def _fp(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _stored_secret(path: Path) -> str:
    """A per-installation signing key, created once (0600) so sessions survive restarts."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


# --- the dependency routes use ---------------------------------------------------------------


class LoginRequired(HTTPException):
    """No valid credentials: 401 for the API, a redirect to the login page for the console."""


def security_of(request: Request) -> Security:
    sec: Security = request.app.state.security
    return sec


def require(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller must be authenticated, hold ``scope``, pass the CSRF check
    for cookie sessions, and have a token left in its bucket."""

    async def dependency(request: Request) -> Principal:
        sec = security_of(request)
        who = await run_in_threadpool(sec.authenticate, request)
        if who is None:
            raise LoginRequired(
                401, "authentication required", headers={"WWW-Authenticate": "Bearer"}
            )
        wait = sec.buckets.take(who.name, who.rate_per_minute, who.burst)
        if wait is not None:
            raise HTTPException(
                429, "too many requests", headers={"Retry-After": str(max(1, math.ceil(wait)))}
            )
        if not who.can(scope):
            raise HTTPException(403, f"{who.name} lacks the {scope!r} permission")
        if who.csrf is not None and request.method not in SAFE_METHODS:
            await _check_csrf(request, who.csrf)
        request.state.principal = who
        return who

    return dependency


async def _check_csrf(request: Request, expected: str) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and "form" in request.headers.get("content-type", ""):
        given = str((await request.form()).get(CSRF_FIELD) or "")
    if not given or not hmac.compare_digest(given, expected):
        raise HTTPException(403, "CSRF token missing or wrong")


def metrics_guard(request: Request) -> None:
    """/metrics is open unless ``PSHUB_METRICS_TOKEN`` is set."""
    token = security_of(request).settings.metrics_token
    if token and not hmac.compare_digest(
        request.headers.get("authorization", ""), f"Bearer {token}"
    ):
        raise HTTPException(401, "metrics token required", headers={"WWW-Authenticate": "Bearer"})


# --- installation ----------------------------------------------------------------------------


def install_security(
    app: FastAPI, c: Container, settings: SecuritySettings | None = None
) -> Security:
    """Attach the security state, the OAuth2 token endpoint and the first admin."""
    sec = Security(c, settings or SecuritySettings())
    app.state.security = sec
    app.state.container = c
    ensure_admin(c, sec.settings)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Any:
        from fastapi.responses import RedirectResponse

        wants_page = request.url.path.startswith("/console") and request.method in SAFE_METHODS
        if wants_page:
            return RedirectResponse(f"/console/login?next={request.url.path}", status_code=303)
        return JSONResponse({"detail": exc.detail}, status_code=401, headers=exc.headers)

    app.add_api_route("/oauth/token", token_route, methods=["POST"], tags=["auth"])
    return sec


async def token_route(request: Request) -> JSONResponse:
    """OAuth2 client-credentials grant (RFC 6749 4.4); errors in the section 5.2 shape."""
    form = await request.form()
    client_id, secret = str(form.get("client_id") or ""), str(form.get("client_secret") or "")
    basic = request.headers.get("authorization", "")
    if basic.lower().startswith("basic "):
        client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type")
    sec = security_of(request)
    who = await run_in_threadpool(sec.from_api_key, f"{client_id}.{secret}")
    if who is None:
        return _oauth_error(401, "invalid_client")
    asked = frozenset(str(form.get("scope") or "").split()) or who.scopes
    if not asked <= who.scopes:
        return _oauth_error(400, "invalid_scope")
    with sec.c.db.session() as s:
        row = ops_tables.find_client(s, client_id)
        assert row is not None
        token = sec.issue_token(row, asked)
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": sec.settings.token_ttl_seconds,
            "scope": " ".join(sorted(asked)),
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _oauth_error(status: int, error: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="pshub"'} if status == 401 else {}
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def ensure_admin(c: Container, settings: SecuritySettings) -> None:
    """Create the first admin when there are no users (demo default password, with a warning)."""
    with c.db.session() as s:
        if ops_tables.list_users(s):
            return
        password = settings.admin_password or DEFAULT_ADMIN_PASSWORD
        if settings.admin_password is None:
            log.warning(
                "default admin password in use; set PSHUB_ADMIN_PASSWORD",
                user=settings.admin_user,
            )
        ops_tables.upsert_user(
            s, settings.admin_user, hash_password(password), "admin", repos.utcnow()
        )
        repos.audit(
            s,
            action="user.created",
            actor="pshub",
            entity_type="user",
            entity_id=settings.admin_user,
            after={"role": "admin"},
        )
