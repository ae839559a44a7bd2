"""Users: ``GET /api/v1/users``, ``GET /api/v1/users/me`` and ``GET /api/v1/users/{id}``.

Built to the vendor's ``mavenlink-users-api-openapi.yml``. The sandbox account has a fixed
team of consultants, seeded once per state; every accepted token acts as the first of them
(the account administrator), which is what ``users/me`` returns.
"""

from __future__ import annotations

import random
from typing import Any

from fastapi import APIRouter, Request

from pshub.sandboxes.base import SandboxState
from pshub.sandboxes.kantata.common import collection_route
from pshub.sandboxes.kantata.envelope import Envelope, Paging, csv, order, single, strip_json
from pshub.sandboxes.kantata.errors import not_found

COLLECTION = "users"
ME_ID = "2001"
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")
_HEADLINES = ("Engagement Manager", "Senior Consultant", "Consultant", "Solution Architect")


def seed_users(state: SandboxState, seed: int, count: int = 6) -> None:
    """Create the account's users once (deterministic for a given seed)."""
    if state.count(COLLECTION):
        return
    rng = random.Random(seed)
    for n in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        user_id = str(int(ME_ID) + n)
        state.put(
            COLLECTION,
            user_id,
            {
                "id": user_id,
                "full_name": f"{first} {last}",
                "email_address": f"{first.lower()}.{last.lower()}{n}@sandbox.example",
                "headline": "Account Administrator" if n == 0 else rng.choice(_HEADLINES),
                "photo_path": "/images/avatar.png",
            },
        )


def router(state: SandboxState) -> APIRouter:
    api = APIRouter()

    async def list_users(request: Request) -> dict[str, Any]:
        query = dict(request.query_params)
        only = set(csv(query.get("only")))
        found = [u for u in state.all(COLLECTION) if not only or u["id"] in only]
        records = order(found, query.get("order"), "id:asc")
        paging = Paging.from_query(query)
        return Envelope(COLLECTION, len(records), paging, paging.slice(records)).body()

    async def show_user(ref: str) -> dict[str, Any]:
        key = ME_ID if strip_json(ref) == "me" else strip_json(ref)
        record = state.get(COLLECTION, key)
        if record is None:
            raise not_found("User", key)
        return single(COLLECTION, [record]).body()

    collection_route(api, "/api/v1/users", list_users, "GET")
    api.add_api_route("/api/v1/users/{ref}", show_user, methods=["GET"])
    return api
