"""Token-based authentication (OAuth 1.0a, HMAC-SHA256) as NetSuite verifies it.

Written from RFC 5849 with the standard library only, so it shares no code with the
connector's signer (``oauthlib``): a passing test proves two implementations agree.

Followed: RFC 5849 section 3.4.1 (signature base string: method, base string URI, normalized
parameters from the query and the ``Authorization`` header, minus ``realm`` and
``oauth_signature``), 3.4.2 (HMAC key ``enc(consumer_secret)&enc(token_secret)``), 3.6
(percent-encoding); NetSuite Help "Error Messages for RESTlets, SOAP Web Services, and REST
Web Services" (``nonce_used``: a nonce may not be used twice; the realm is the account id) and
"Error Handling in REST Web Services" (401 INVALID_LOGIN). The sandbox refuses a nonce seen
within the last ``2 * window`` seconds whatever its timestamp, a superset of NetSuite's
nonce-and-timestamp rule.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote

_PARAM = re.compile(r'([A-Za-z0-9_.~%-]+)="([^"]*)"')
REQUIRED = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
)


class AuthError(Exception):
    """Why a request was refused; the sandbox answers 401 INVALID_LOGIN whatever the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def enc(value: str) -> str:
    """RFC 5849 3.6: every byte but ALPHA / DIGIT / "-" / "." / "_" / "~" is %XX-encoded."""
    return quote(value, safe="~")


def parse_authorization(header: str | None) -> dict[str, str]:
    """The parameters of an ``OAuth ...`` Authorization header (values percent-decoded)."""
    if not header:
        raise AuthError("missing_authorization")
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        raise AuthError("not_oauth")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        name = unquote(match.group(1))
        if name in params:
            raise AuthError("duplicate_parameter")
        params[name] = unquote(match.group(2))
    missing = [name for name in REQUIRED if name not in params]
    if missing:
        raise AuthError("missing_" + missing[0])
    return params


def base_string_uri(scheme: str, host: str, raw_path: str) -> str:
    """RFC 5849 3.4.1.2: lower-case scheme and host, default port dropped, path as sent."""
    scheme = scheme.lower()
    host = host.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}{raw_path or '/'}"


def signature_base_string(
    method: str, uri: str, raw_query: str, oauth_params: Mapping[str, str]
) -> str:
    """RFC 5849 3.4.1.1: METHOD & enc(base URI) & enc(sorted, encoded parameters)."""
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    pairs += [(k, v) for k, v in oauth_params.items() if k not in ("realm", "oauth_signature")]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in pairs))
    return "&".join((method.upper(), enc(uri), enc(normalized)))


def hmac_sha256(base: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{enc(consumer_secret)}&{enc(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Integration:
    """One integration record (consumer) and one access token issued for it."""

    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


class TbaVerifier:
    """Checks realm, keys, method, timestamp window, signature and nonce reuse, in that order."""

    def __init__(
        self,
        account_id: str,
        integration: Integration,
        *,
        window: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account_id = account_id
        self.integration = integration
        self.window = window
        self.clock = clock
        self._nonces: dict[tuple[str, str], float] = {}  # (token, nonce) -> forget after
        self._pruned = clock()
        self._lock = threading.Lock()

    def verify(
        self,
        method: str,
        scheme: str,
        host: str,
        raw_path: str,
        raw_query: str,
        authorization: str | None,
    ) -> None:
        """Return quietly when the request is authentic; raise AuthError otherwise."""
        p = parse_authorization(authorization)
        if p.get("realm", "").upper() != self.account_id.upper():
            raise AuthError("wrong_realm")
        if p["oauth_consumer_key"] != self.integration.consumer_key:
            raise AuthError("consumer_key_unknown")
        if p["oauth_token"] != self.integration.token_id:
            raise AuthError("token_unknown")
        if p["oauth_signature_method"] != "HMAC-SHA256":
            raise AuthError("signature_method_unsupported")
        if p.get("oauth_version", "1.0") != "1.0":
            raise AuthError("version_unsupported")
        self._check_timestamp(p["oauth_timestamp"])
        base = signature_base_string(method, base_string_uri(scheme, host, raw_path), raw_query, p)
        expected = hmac_sha256(
            base, self.integration.consumer_secret, self.integration.token_secret
        )
        if not hmac.compare_digest(expected, p["oauth_signature"]):
            raise AuthError("signature_invalid")
        self._use_nonce(p["oauth_token"], p["oauth_nonce"])

    def _check_timestamp(self, value: str) -> None:
        try:
            stamp = int(value)
        except ValueError as exc:
            raise AuthError("timestamp_invalid") from exc
        if abs(self.clock() - stamp) > self.window:
            raise AuthError("timestamp_refused")

    def _use_nonce(self, token: str, nonce: str) -> None:
        if len(nonce) < 6:  # NetSuite's nonce_rejected: at least six characters
            raise AuthError("nonce_rejected")
        now = self.clock()
        with self._lock:
            if now - self._pruned > self.window:  # forget nonces whose window has passed
                self._nonces = {k: t for k, t in self._nonces.items() if t > now}
                self._pruned = now
            key = (token, nonce)
            if self._nonces.get(key, 0) > now:
                raise AuthError("nonce_used")
            self._nonces[key] = now + 2 * self.window
