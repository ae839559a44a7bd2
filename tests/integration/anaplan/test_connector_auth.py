"""Tokens and failures: refresh before expiry, renewal after a 401, errors translated."""

from __future__ import annotations

import httpx
import pytest

from pshub.connectors.anaplan import AnaplanConnector
from pshub.connectors.errors import TransientError, UnauthorizedError
from pshub.sandboxes.server import free_port

from .conftest import ConnectorFactory
from .support import (
    DEFAULT_FILE_NAME,
    DEFAULT_IMPORT_NAME,
    MODEL,
    PASSWORD,
    USER,
    WS,
    csv_bytes,
    forecast_rows,
    set_settings,
)


def _counts(admin: httpx.Client) -> dict[str, int]:
    counts: dict[str, int] = admin.get("/_sandbox/tokens").json()["counts"]
    return counts


def test_an_expired_token_is_renewed_and_the_call_goes_through(
    connector: AnaplanConnector, admin: httpx.Client
) -> None:
    assert connector.imports()
    admin.post("/_sandbox/tokens/expire")
    assert [i.name for i in connector.imports()] == [DEFAULT_IMPORT_NAME]
    assert _counts(admin)["authenticate"] == 2
    assert _counts(admin)["refused"] == 1


def test_a_token_close_to_expiry_is_refreshed_not_replaced(
    connector: AnaplanConnector, admin: httpx.Client
) -> None:
    set_settings(admin, token_ttl_seconds=60)  # under the connector's 300 s refresh margin
    connector.files()
    connector.files()
    tokens = admin.get("/_sandbox/tokens").json()["tokens"]
    assert len(tokens) == 1 and tokens[0]["refreshes"] >= 1
    assert _counts(admin)["authenticate"] == 1


def test_a_wrong_password_is_unauthorized(make_connector: ConnectorFactory) -> None:
    with pytest.raises(UnauthorizedError) as caught:
        make_connector(password="wrong").files()
    assert caught.value.code == "FAILURE_BAD_CREDENTIAL"


def test_a_renewal_that_is_refused_is_unauthorized_after_one_attempt(
    connector: AnaplanConnector, admin: httpx.Client
) -> None:
    connector.files()
    admin.put(f"/_sandbox/users/{USER}", json={"password": "rotated"})
    admin.post("/_sandbox/tokens/expire")
    with pytest.raises(UnauthorizedError):
        connector.files()
    assert _counts(admin)["refused"] == 1


def test_an_outage_is_a_transient_error(connector: AnaplanConnector, admin: httpx.Client) -> None:
    connector.files()
    admin.post("/_sandbox/outage", json={"seconds": 60})
    with pytest.raises(TransientError) as caught:
        connector.publish_csv(
            DEFAULT_FILE_NAME, csv_bytes(forecast_rows("X", 1)), DEFAULT_IMPORT_NAME
        )
    assert caught.value.status == 503 and caught.value.retryable


def test_an_outage_during_login_is_a_transient_error(
    make_connector: ConnectorFactory, admin: httpx.Client
) -> None:
    admin.post("/_sandbox/outage", json={"seconds": 60})
    with pytest.raises(TransientError):
        make_connector().files()


def test_an_unreachable_server_is_a_transient_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with (
        AnaplanConnector(url, url, USER, PASSWORD, workspace_id=WS, model_id=MODEL) as connector,
        pytest.raises(TransientError, match="network"),
    ):
        connector.files()
