"""OAuth 2.0 handshake and bearer sessions, over HTTPS."""

from __future__ import annotations

import pytest

from pshub.connectors.errors import UnauthorizedError
from pshub.connectors.salesforce import SalesforceConnector

from .support import CLIENT_ID, CLIENT_SECRET, Sandbox


def test_client_credentials_return_the_salesforce_token_shape(sandbox: Sandbox) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    answer = sandbox.http.post("/services/oauth2/token", data=form)

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    }
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == sandbox.url
    assert body["id"].startswith(f"{sandbox.url}/id/00D")
    assert body["issued_at"].isdigit()


def test_the_password_grant_also_returns_a_token(sandbox: Sandbox) -> None:
    form = {
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "username": "integration@pshub.example",
        "password": "secret+token",
    }

    answer = sandbox.http.post("/services/oauth2/token", data=form)

    assert answer.status_code == 200
    assert answer.json()["access_token"].startswith("00D")


def test_bad_client_credentials_are_refused_with_invalid_client(sandbox: Sandbox) -> None:
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "no"}

    answer = sandbox.http.post("/services/oauth2/token", data=form)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client"
    assert answer.json()["error_description"]


def test_the_connector_raises_unauthorized_for_bad_credentials(sandbox: Sandbox) -> None:
    conn = SalesforceConnector(sandbox.url, CLIENT_ID, "wrong", ca_file=str(sandbox.ca))
    with conn, pytest.raises(UnauthorizedError) as caught:
        conn.query("SELECT Id FROM Account")
    assert caught.value.code == "invalid_client"
    assert caught.value.status == 400


def test_api_calls_without_a_valid_token_answer_invalid_session_id(sandbox: Sandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        answer = sandbox.http.get("/services/data/v59.0/sobjects/Account", headers=headers)

        assert answer.status_code == 401
        assert answer.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]


def test_the_connector_fetches_a_new_token_once_when_its_session_expires(
    sandbox: Sandbox, connector: SalesforceConnector
) -> None:
    connector.create_account({"Name": "Before expiry"})
    expired = sandbox.http.post("/_sandbox/sessions/expire").json()["expired"]

    connector.create_account({"Name": "After expiry"})

    assert expired >= 1
    names = {r["Name"] for r in connector.query("SELECT Name FROM Account")}
    assert names == {"Before expiry", "After expiry"}
