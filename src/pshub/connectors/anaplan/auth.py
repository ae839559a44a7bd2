"""Anaplan token handling: Basic login, refresh before expiry, renewal after a 401.

Follows the Authentication API: ``POST {auth_url}/token/authenticate`` with HTTP Basic and no
body answers ``tokenInfo`` (``tokenValue``, ``expiresAt`` in epoch ms); ``POST
/token/refresh`` with ``Authorization: AnaplanAuthToken <token>`` extends the same token
(it must still be valid). Tokens live 35 minutes, so the session refreshes once fewer than
``refresh_margin`` seconds remain, and after a 401 it refreshes (or, when the refresh is
refused because the token already expired, logs in again) exactly once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from pshub.connectors.anaplan.errors import VENDOR, network, translate
from pshub.connectors.anaplan.models import TokenInfo
from pshub.connectors.errors import TransientError, UnauthorizedError

SCHEME = "AnaplanAuthToken"


class TokenSession:
    """Holds one token for a user; thread-safe."""

    def __init__(
        self,
        auth_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
        refresh_margin: float = 300.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = httpx.Client(
            base_url=auth_url.rstrip("/"), timeout=timeout, transport=transport
        )
        self._credentials = (username, password)
        self._margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: TokenInfo | None = None

    def close(self) -> None:
        self._http.close()

    def header(self) -> str:
        """The ``Authorization`` value to send now (logging in or refreshing as needed)."""
        with self._lock:
            if self._token is None:
                self._token = self._authenticate()
            elif self._token.expires_at / 1000 - self._clock() < self._margin:
                self._token = self._refresh_or_login(self._token)
            return f"{SCHEME} {self._token.token_value}"

    def renew(self, refused: str) -> str:
        """After ``refused`` got a 401: refresh once, or log in again; the new header value."""
        with self._lock:
            current = self._token
            if current is not None and f"{SCHEME} {current.token_value}" != refused:
                return f"{SCHEME} {current.token_value}"  # another thread renewed it already
            self._token = self._refresh_or_login(current)
            return f"{SCHEME} {self._token.token_value}"

    def _refresh_or_login(self, token: TokenInfo | None) -> TokenInfo:
        if token is not None:
            try:
                return self._post(
                    "/token/refresh", {"Authorization": f"{SCHEME} {token.token_value}"}
                )
            except UnauthorizedError:
                pass  # expired or revoked: a refresh cannot help, the password can
        return self._authenticate()

    def _authenticate(self) -> TokenInfo:
        return self._post("/token/authenticate", {}, auth=httpx.BasicAuth(*self._credentials))

    def _post(
        self, path: str, headers: dict[str, str], auth: httpx.BasicAuth | None = None
    ) -> TokenInfo:
        operation = f"POST {path}"
        try:
            if auth is None:
                response = self._http.post(path, headers=headers)
            else:
                response = self._http.post(path, headers=headers, auth=auth)
        except httpx.HTTPError as exc:
            raise network(exc, operation) from exc
        if response.status_code >= 400:
            raise translate(response, operation)
        try:
            return TokenInfo.model_validate(response.json()["tokenInfo"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientError(
                "token answer without tokenInfo", vendor=VENDOR, operation=operation
            ) from exc
