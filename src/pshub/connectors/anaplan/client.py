"""The Anaplan Integration API v2 wire client: token header, one renewal on 401, paging.

``api_url`` is the API root including ``/2/0`` (``https://api.anaplan.com/2/0``); a bare
host (such as the sandbox's root) gets ``/2/0`` appended. Listings follow ``meta.paging``
(``offset``/``limit``). Every failure becomes a :mod:`pshub.connectors.errors` error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from pshub.connectors.anaplan.auth import TokenSession
from pshub.connectors.anaplan.errors import VENDOR, network, translate
from pshub.connectors.errors import TransientError

PAGE_SIZE = 1000


def api_root(api_url: str) -> str:
    base = api_url.rstrip("/")
    return base if base.endswith("/2/0") else f"{base}/2/0"


class AnaplanClient:
    def __init__(
        self,
        session: TokenSession,
        api_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._session = session
        self._http = httpx.Client(base_url=api_root(api_url), timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        content: bytes | None = None,
        params: dict[str, int] | None = None,
    ) -> httpx.Response:
        """Send with the current token; after a 401 renew it once and send again."""
        operation = f"{method} {path}"
        authorization = self._session.header()
        response = self._send(method, path, authorization, json, content, params)
        if response.status_code == 401:
            authorization = self._session.renew(authorization)
            response = self._send(method, path, authorization, json, content, params)
        if response.status_code >= 400:
            raise translate(response, operation)
        return response

    def json(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        response = self.request(method, path, **kw)
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientError(
                "answer is not JSON", vendor=VENDOR, operation=f"{method} {path}"
            ) from exc
        return body if isinstance(body, dict) else {}

    def items(self, path: str, key: str) -> Iterator[dict[str, Any]]:
        """Every item of a listing, page by page."""
        offset = 0
        while True:
            body = self.json("GET", path, params={"offset": offset, "limit": PAGE_SIZE})
            batch = [i for i in body.get(key) or [] if isinstance(i, dict)]
            yield from batch
            paging = (body.get("meta") or {}).get("paging") or {}
            offset += len(batch)
            if not batch or offset >= int(paging.get("totalSize") or 0):
                return

    def _send(
        self,
        method: str,
        path: str,
        authorization: str,
        json: dict[str, Any] | None,
        content: bytes | None,
        params: dict[str, int] | None,
    ) -> httpx.Response:
        headers = {"Authorization": authorization, "Accept": "application/json, */*"}
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        try:
            return self._http.request(
                method, path, headers=headers, json=json, content=content, params=params
            )
        except httpx.HTTPError as exc:
            raise network(exc, f"{method} {path}") from exc
