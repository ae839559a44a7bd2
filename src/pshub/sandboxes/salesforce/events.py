"""Change Data Capture for won deals, relayed to the hub as a signed webhook.

Real Salesforce publishes ``OpportunityChangeEvent`` messages on ``/data/OpportunityChangeEvent``
and subscribers read them over the Pub/Sub API (gRPC, Avro) or CometD. The hub cannot subscribe
to a sandbox that way, so this sandbox acts as the relay a deployment would run (e.g. an
outbound-message bridge): it POSTs each event as JSON to ``notify_url``, signed with
:func:`pshub.signing.sign` in the :data:`pshub.signing.HEADER` header.

The message follows "Change Event Message Structure" / "ChangeEventHeader Fields" of the Change
Data Capture Developer Guide, in the CometD JSON form of ``data``::

    {"schema": "<schema id>",
     "payload": {"ChangeEventHeader": {"entityName": "Opportunity", "recordIds": ["006..."],
                                       "changeType": "CREATE" | "UPDATE",
                                       "changedFields": [...], "nulledFields": [],
                                       "diffFields": [], "commitTimestamp": <epoch ms>,
                                       "commitNumber": n, "commitUser": "005...",
                                       "transactionKey": "...", "sequenceNumber": 1,
                                       "changeOrigin": "com/salesforce/api/rest/59.0"},
                 <field>: <value>, ...},
     "event": {"replayId": n, "EventUuid": "<uuid>"}}

For CREATE the body carries every non-null field and ``changedFields`` is empty; for UPDATE it
carries the changed fields and ``LastModifiedDate``, which ``changedFields`` lists. Only the
transitions the hub subscribes to are relayed: an Opportunity whose StageName becomes
"Closed Won", and on a won Opportunity a change order whose ``Change_Order_Status__c`` becomes
"Approved" (an UPDATE event carrying the changed fields, ``Change_Order_Number__c`` with it
when it changed in the same write). Delivery is at least once: events are kept in the state
store with their status and retried with capped exponential backoff by a background thread;
pending events are sent again when the sandbox starts.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import json
import threading
import time
import uuid
from typing import Any

import httpx

from pshub import signing
from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.salesforce.schema import USER_ID, SObject, typed
from pshub.sandboxes.salesforce.wire import dumps

COLLECTION = "_cdc_events"
WON = "Closed Won"
CHANGE_ORDER_STATUS, APPROVED = "Change_Order_Status__c", "Approved"
change_origin: contextvars.ContextVar[str] = contextvars.ContextVar(
    "change_origin", default="com/salesforce/api/rest/59.0"
)
_SKIP = {"Id", "IsDeleted", "SystemModstamp"}


def _approved(after: dict[str, Any], changed: list[str]) -> bool:
    """A change order on a won deal was just approved (``Change_Order_Status__c``)."""
    return CHANGE_ORDER_STATUS in changed and after.get(CHANGE_ORDER_STATUS) == APPROVED


def _schema_id(obj: SObject) -> str:
    digest = hashlib.sha256(",".join(f.name for f in obj.fields).encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


class ChangeEvents:
    """Records closed-won change events (inside the write's transaction) and delivers them."""

    def __init__(self, state: SandboxState, url: str | None, secret: str) -> None:
        self.state = state
        self.url = url
        self.secret = secret
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(timeout=5.0)

    # -- recording ----------------------------------------------------------------------

    def on_change(
        self, obj: SObject, before: dict[str, Any] | None, after: dict[str, Any], changed: list[str]
    ) -> None:
        if obj.name != "Opportunity" or after.get("StageName") != WON:
            return
        if before is not None and before.get("StageName") == WON and not _approved(after, changed):
            return
        replay = self.state.next_id("cdc:replay")
        event = {
            "schema": _schema_id(obj),
            "payload": self._payload(obj, before, after, changed, replay),
            "event": {"replayId": replay, "EventUuid": str(uuid.uuid4())},
        }
        self.state.put(
            COLLECTION,
            f"{replay:012d}",
            {
                "replayId": replay,
                "body": dumps(event),
                "status": "pending",
                "attempts": 0,
                "deliveries": 0,
                "last_status": None,
                "last_error": None,
                "next_attempt_at": 0.0,
            },
        )
        self._wake.set()

    def _payload(
        self,
        obj: SObject,
        before: dict[str, Any] | None,
        after: dict[str, Any],
        changed: list[str],
        replay: int,
    ) -> dict[str, Any]:
        names = (
            changed
            if before is not None
            else [f.name for f in obj.fields if after.get(f.name) is not None]
        )
        header = {
            "entityName": obj.name,
            "recordIds": [after["Id"]],
            "changeType": "CREATE" if before is None else "UPDATE",
            "changedFields": list(changed) if before is not None else [],
            "nulledFields": [n for n in names if after.get(n) is None],
            "diffFields": [],
            "commitTimestamp": int(time.time() * 1000),
            "commitNumber": replay,
            "commitUser": USER_ID,
            "transactionKey": uuid.uuid4().hex,
            "sequenceNumber": 1,
            "changeOrigin": change_origin.get(),
        }
        values = {
            n: typed(fdef, after.get(n))
            for n in names
            if n not in _SKIP and (fdef := obj.field(n)) is not None
        }
        return {"ChangeEventHeader": header, **values}

    # -- admin --------------------------------------------------------------------------

    def all(self) -> list[dict[str, Any]]:
        return [
            {**{k: v for k, v in doc.items() if k != "body"}, "event": json.loads(doc["body"])}
            for doc in self.state.all(COLLECTION)
        ]

    def set_target(self, url: str | None, secret: str) -> None:
        self.url, self.secret = url, secret
        self._wake.set()

    def redeliver(self, replay: int) -> dict[str, Any] | None:
        doc = self.state.get(COLLECTION, f"{replay:012d}")
        if doc is None:
            return None
        return self._attempt(doc)

    # -- delivery -----------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="salesforce-cdc", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._http.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for doc in self._due():
                    if self._stop.is_set():
                        break
                    self._attempt(doc)
            except Exception:  # noqa: S110 - the relay must outlive any single bad event
                pass
            self._wake.wait(timeout=0.5)
            self._wake.clear()

    def _due(self) -> list[dict[str, Any]]:
        now = time.time()
        return [
            d
            for d in self.state.all(COLLECTION)
            if d["status"] == "pending" and d["next_attempt_at"] <= now and self.url
        ]

    def _attempt(self, doc: dict[str, Any]) -> dict[str, Any]:
        """POST the event once; record the outcome; return the updated status record."""
        url, secret = self.url, self.secret
        body = doc["body"].encode()
        status: int | None = None
        error: str | None = None
        if not url:
            error = "no notify url configured"
        else:
            headers = {
                "Content-Type": "application/json",
                signing.HEADER: signing.sign(secret, int(time.time()), body),
            }
            try:
                status = self._http.post(url, content=body, headers=headers).status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            fresh = self.state.get(COLLECTION, f"{doc['replayId']:012d}") or doc
            fresh["attempts"] += 1
            fresh["last_status"] = status
            if status is not None and 200 <= status < 300:
                fresh.update(
                    status="delivered", last_error=None, deliveries=fresh["deliveries"] + 1
                )
            else:
                backoff = min(30.0, 0.25 * 2 ** min(fresh["attempts"], 8))
                fresh.update(
                    status="pending",
                    last_error=error or f"HTTP {status}",
                    next_attempt_at=time.time() + backoff,
                )
            self.state.put(COLLECTION, f"{doc['replayId']:012d}", fresh)
        return {k: v for k, v in fresh.items() if k != "body"}
