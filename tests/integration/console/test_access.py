"""Access control over real HTTP: 401 without credentials, roles, CSRF, API keys, OAuth2
client credentials, per-client throttling, and the audit trail of every action."""

from __future__ import annotations

import base64

from sqlalchemy import select

from pshub.store.tables import AuditEntry
from tests.integration.console.conftest import Console, csrf_of, login
from tests.integration.test_deal_to_project_fakes import deliver, wait_result


def open_exception(console: Console) -> int:
    accepted = deliver(console.c, "006DE", "evt-de")
    return int(wait_result(accepted.workflow_ids[0])["exception_id"])


def audit_actions(console: Console) -> list[tuple[str, str, dict]]:
    with console.c.db.session() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(r.actor, r.action, r.detail) for r in rows]


def test_an_unauthenticated_request_gets_401_and_a_browser_is_sent_to_log_in(
    console: Console,
) -> None:
    exc_id = open_exception(console)
    with console.client() as client:
        listing = client.get("/exceptions")
        retry = client.post(f"/exceptions/{exc_id}/retry")
        flow = client.get("/flows/deal:salesforce:006DE")
        page = client.get("/console/exceptions")
        form_post = client.post(f"/console/exceptions/{exc_id}/retry")
        health = client.get("/healthz")
    for response in (listing, retry, flow, form_post):
        assert response.status_code == 401
    assert listing.headers["www-authenticate"] == "Bearer"
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    assert health.status_code == 200


def test_a_viewer_can_read_but_cannot_retry(console: Console) -> None:
    exc_id = open_exception(console)
    with console.client() as client:
        csrf = login(client, "victor")
        assert client.get("/console/exceptions").status_code == 200
        detail = client.get(f"/console/exceptions/{exc_id}")
        assert detail.status_code == 200 and "Retry now" not in detail.text
        form = client.post(f"/console/exceptions/{exc_id}/retry", data={"csrf_token": csrf})
        api = client.post(f"/exceptions/{exc_id}/retry", headers={"X-CSRF-Token": csrf})
        assert client.get(f"/exceptions/{exc_id}").json()["status"] == "open"
    assert form.status_code == 403 and api.status_code == 403


def test_a_state_change_without_the_sessions_csrf_token_is_refused(console: Console) -> None:
    exc_id = open_exception(console)
    with console.client() as client:
        login(client, "olivia")
        missing = client.post(f"/console/exceptions/{exc_id}/resolve", data={"note": "x"})
        forged = client.post(
            f"/console/exceptions/{exc_id}/resolve", data={"note": "x", "csrf_token": "forged"}
        )
        assert client.get(f"/exceptions/{exc_id}").json()["status"] == "open"
    assert missing.status_code == 403 and forged.status_code == 403


def test_a_wrong_password_is_refused_and_both_attempts_are_audited(console: Console) -> None:
    with console.client() as client:
        page = client.get("/console/login")
        wrong = client.post(
            "/console/login",
            data={"username": "olivia", "password": "nope", "csrf_token": csrf_of(page.text)},
        )
        assert "Wrong" in client.get(wrong.headers["location"]).text
        assert client.get("/console/").status_code == 303  # still logged out
        login(client, "olivia")
    actions = [(actor, action) for actor, action, _ in audit_actions(console)]
    assert ("olivia", "console.login_failed") in actions and ("olivia", "console.login") in actions


def test_api_keys_and_client_credentials_tokens_carry_their_scopes(console: Console) -> None:
    exc_id = open_exception(console)
    key = console.api_key(["read"])
    client_id, secret = key.split(".", 1)
    with console.client() as client:
        assert client.get("/exceptions", headers={"X-API-Key": key}).status_code == 200
        refused = client.post(f"/exceptions/{exc_id}/retry", headers={"X-API-Key": key})
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        token = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        read = client.get(f"/exceptions/{exc_id}", headers=bearer)
        wrong = client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": "x",
            },
        )
        grant = client.post("/oauth/token", data={"grant_type": "password"})
        scope = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "operate"},
            headers={"Authorization": f"Basic {basic}"},
        )
    assert refused.status_code == 403
    assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
    assert token.json()["scope"] == "read" and read.status_code == 200
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid_client"}
    assert grant.status_code == 400 and grant.json() == {"error": "unsupported_grant_type"}
    assert scope.status_code == 400 and scope.json() == {"error": "invalid_scope"}


def test_a_client_over_its_request_budget_gets_429_with_retry_after(console: Console) -> None:
    key = console.api_key(["read"], rate_per_minute=1, burst=3)
    with console.client() as client:
        answers = [client.get("/exceptions", headers={"X-API-Key": key}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1


def test_operator_actions_are_audited_with_who_before_and_after(console: Console) -> None:
    exc_id = open_exception(console)
    key = console.api_key(["read", "operate"])
    with console.client() as client:
        resolved = client.post(
            f"/exceptions/{exc_id}/resolve",
            json={"note": "provisioned by hand"},
            headers={"X-API-Key": key},
        )
        trail = client.get("/audit?action=exception.resolved", headers={"X-API-Key": key}).json()
    assert resolved.status_code == 200
    (entry,) = trail
    assert entry["actor"] == f"client:{key.split('.')[0]}"
    assert entry["detail"]["before"] == {"status": "open"}
    assert entry["detail"]["after"] == {"status": "resolved"}
    assert entry["detail"]["note"] == "provisioned by hand"
    assert entry["correlation_id"] == "deal:salesforce:006DE"
