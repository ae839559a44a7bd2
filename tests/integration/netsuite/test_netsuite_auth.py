"""Token-based authentication: the sandbox's own RFC 5849 verifier against oauthlib's signer."""

from __future__ import annotations

import time

import pytest
from netsuite_helpers import US, Sandbox, account, oauth_header

from pshub.connectors.errors import UnauthorizedError
from pshub.connectors.netsuite import NetSuiteConnector


def assert_invalid_login(response_json: dict[str, object]) -> None:
    assert response_json["status"] == 401
    assert response_json["title"] == "Unauthorized"
    details = response_json["o:errorDetails"]
    assert isinstance(details, list)
    assert details[0]["o:errorCode"] == "INVALID_LOGIN"
    assert details[0]["detail"].startswith("Invalid login attempt.")


def test_a_request_signed_by_the_connector_is_accepted(
    netsuite: Sandbox, erp: NetSuiteConnector
) -> None:
    internal_id = erp.upsert_customer(account("Initech"), US, None)

    assert erp.get_customer(internal_id).company_name == "Initech"
    assert netsuite.admin("GET", "/auth")["total"] == 0


def test_a_signed_request_with_query_parameters_is_accepted(netsuite: Sandbox) -> None:
    response = netsuite.send("GET", "/subsidiary", params={"limit": 2, "q": 'name IS "Acme GmbH"'})

    assert response.status_code == 200
    assert response.json()["items"][0]["id"] == "3"


def test_a_tampered_signature_is_refused_with_invalid_login(netsuite: Sandbox) -> None:
    url = netsuite.url + "/services/rest/record/v1/subsidiary/1"
    header = oauth_header("GET", url)
    tampered = header.replace('oauth_signature="', 'oauth_signature="A', 1)

    response = netsuite.send("GET", "/subsidiary/1", header=tampered)

    assert response.status_code == 401
    assert_invalid_login(response.json())
    assert netsuite.admin("GET", "/auth")["refused"] == {"signature_invalid": 1}


def test_a_wrong_token_secret_is_refused(netsuite: Sandbox) -> None:
    response = netsuite.send("GET", "/subsidiary/1", token_secret="not-the-secret")

    assert response.status_code == 401
    assert_invalid_login(response.json())


def test_the_connector_reports_a_wrong_token_secret_as_unauthorized(netsuite: Sandbox) -> None:
    erp = netsuite.connector(token_secret="not-the-secret")

    with pytest.raises(UnauthorizedError) as caught:
        erp.get_customer("101")

    assert caught.value.status == 401
    assert caught.value.code == "INVALID_LOGIN"


def test_a_stale_timestamp_is_refused(netsuite: Sandbox) -> None:
    stale = str(int(time.time()) - 900)

    response = netsuite.send("GET", "/subsidiary/1", timestamp=stale)

    assert response.status_code == 401
    assert_invalid_login(response.json())
    assert netsuite.admin("GET", "/auth")["refused"] == {"timestamp_refused": 1}


def test_a_timestamp_from_the_future_is_refused(netsuite: Sandbox) -> None:
    response = netsuite.send("GET", "/subsidiary/1", timestamp=str(int(time.time()) + 900))

    assert response.status_code == 401


def test_a_reused_nonce_is_refused(netsuite: Sandbox) -> None:
    first = netsuite.send("GET", "/subsidiary/1", nonce="n0nce-7c1f44a2")
    replay = netsuite.send("GET", "/subsidiary/1", nonce="n0nce-7c1f44a2")

    assert first.status_code == 200
    assert replay.status_code == 401
    assert_invalid_login(replay.json())
    assert netsuite.admin("GET", "/auth")["refused"] == {"nonce_used": 1}


def test_query_parameters_are_part_of_the_signature(netsuite: Sandbox) -> None:
    signed_without_query = oauth_header("GET", netsuite.url + "/services/rest/record/v1/customer")

    response = netsuite.send("GET", "/customer", params={"limit": 5}, header=signed_without_query)

    assert response.status_code == 401


def test_an_unknown_consumer_key_and_a_wrong_realm_are_refused(netsuite: Sandbox) -> None:
    unknown_key = netsuite.send("GET", "/subsidiary/1", consumer_key="someone-else")
    url = netsuite.url + "/services/rest/record/v1/subsidiary/1"
    other_realm = netsuite.send(
        "GET", "/subsidiary/1", header=oauth_header("GET", url, account_id="OTHER123")
    )

    assert unknown_key.status_code == 401
    assert other_realm.status_code == 401
    assert netsuite.admin("GET", "/auth")["refused"] == {
        "consumer_key_unknown": 1,
        "wrong_realm": 1,
    }


def test_a_request_without_authorization_is_refused(netsuite: Sandbox) -> None:
    response = netsuite.send("GET", "/subsidiary/1", header="")

    assert response.status_code == 401
    assert_invalid_login(response.json())
