"""Posting workflows claim a billing run's projects one at a time (decision 0014), on both
engines: each project is taken once, and a claim made again after a crash takes the same."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pshub.store import billing as repo
from pshub.store.db import Database


def test_claims_take_projects_in_order_and_a_repeated_claim_takes_the_same(db_url: str) -> None:
    db = Database(db_url)
    projects = ["big", "mid", "small"]

    def take(workflow: str, seq: int, run: str = "r1") -> str | None:
        with db.writing() as s:
            return repo.claim_project(s, run, workflow, seq, projects)

    try:
        assert take("lane-a", 0) == "big"
        assert take("lane-b", 0) == "mid"
        assert take("lane-a", 0) == "big"  # the step again after a crash: the same project
        assert take("lane-a", 1) == "small"
        assert take("lane-b", 1) is None  # all taken
        assert take("lane-a", 2) is None
        assert take("lane-c", 0, run="r2") == "big"  # another run claims afresh
    finally:
        db.dispose()


def test_releasing_a_runs_claims_leaves_other_runs_claims(db_url: str) -> None:
    db = Database(db_url)
    try:
        with db.writing() as s:
            repo.claim_project(s, "done", "lane-a", 0, ["p1", "p2"])
            repo.claim_project(s, "done", "lane-b", 0, ["p1", "p2"])
            repo.claim_project(s, "running", "lane-c", 0, ["p1", "p2"])
        with db.writing() as s:
            assert repo.release_claims(s, "done") == 2
            assert repo.release_claims(s, "done") == 0  # again: nothing left
        with db.writing() as s:
            # The other run's claim still stands: its lane's repeated claim finds it.
            assert repo.claim_project(s, "running", "lane-c", 0, ["p1", "p2"]) == "p1"
            assert repo.claim_project(s, "running", "lane-d", 0, ["p1", "p2"]) == "p2"
    finally:
        db.dispose()


def test_workflows_claiming_at_once_take_every_project_exactly_once(db_url: str) -> None:
    db = Database(db_url)
    projects = [f"p{n:03}" for n in range(120)]

    def lane(name: str) -> list[str]:
        taken: list[str] = []
        seq = 0
        while True:
            with db.writing() as s:
                project = repo.claim_project(s, "month-end", name, seq, projects)
            if project is None:
                return taken
            taken.append(project)
            seq += 1

    try:
        with ThreadPoolExecutor(4) as pool:
            lanes = list(pool.map(lane, [f"lane-{n}" for n in range(4)]))
        claimed = [p for taken in lanes for p in taken]
        assert sorted(claimed) == projects  # each once, none left
    finally:
        db.dispose()
