"""HMAC-SHA256 webhook signatures with a timestamp, shared by senders and the hub.

Header ``X-PSHub-Signature: t=<unix seconds>,v1=<hex hmac of "t.body">``. The timestamp
bounds replay: the hub refuses signatures older or newer than its tolerance.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-PSHub-Signature"


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale or wrong."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str | None, body: bytes, now: float, tolerance: float) -> int:
    """Check ``header`` against ``body``; return its timestamp or raise SignatureError."""
    if not header:
        raise SignatureError(f"{HEADER} header is missing")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise SignatureError(f"{HEADER} header is malformed: expected t=...,v1=...") from exc
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"{HEADER} timestamp is outside the {tolerance:.0f}s tolerance")
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise SignatureError(f"{HEADER} does not match the body")
    return timestamp
