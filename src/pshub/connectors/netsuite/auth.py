"""Token-based authentication headers for NetSuite, signed by ``oauthlib`` (HMAC-SHA256).

NetSuite TBA is OAuth 1.0a with ``realm`` set to the account id and HMAC-SHA256 signatures
(Help: "The Authorization Headers for Token-based Authentication").
"""

from __future__ import annotations

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client


class TbaSigner:
    """Signs each request afresh (new nonce and timestamp)."""

    def __init__(
        self,
        account_id: str,
        consumer_key: str,
        consumer_secret: str,
        token_id: str,
        token_secret: str,
    ) -> None:
        self._client = Client(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=token_id,
            resource_owner_secret=token_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
            realm=account_id,
        )

    def authorization(self, method: str, url: str) -> str:
        """The ``Authorization`` header for ``method url`` (query parameters are signed)."""
        _uri, headers, _body = self._client.sign(url, http_method=method)
        return str(headers["Authorization"])
