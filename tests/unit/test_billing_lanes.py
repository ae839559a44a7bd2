"""How a billing run hands its projects to posting workflows (decision 0014)."""

from __future__ import annotations

from pshub.flows.time_to_bill import lane_plan


def test_a_small_run_is_one_workflow_billed_inside_the_run() -> None:
    assert lane_plan({"a": 10, "b": 5, "c": 3}, workers=4, least=1000) == (["a", "b", "c"], 1)


def test_a_month_end_backlog_uses_every_worker_and_is_claimed_largest_first() -> None:
    counts = {"s1": 800, "big": 3000, "s3": 500, "mid": 1500, "s2": 700}  # 6,500 entries
    assert lane_plan(counts, workers=4, least=1000) == (["big", "mid", "s1", "s2", "s3"], 4)


def test_a_backlog_bigger_than_the_workers_hold_still_has_one_workflow_per_worker() -> None:
    counts = {f"p{n:02}": 2000 for n in range(50)}  # 100,000 entries
    order, lanes = lane_plan(counts, workers=4, least=1000)
    assert lanes == 4
    assert order == sorted(counts)  # equal sizes: by id, so the order is stable


def test_never_more_workflows_than_projects_and_none_for_no_work() -> None:
    assert lane_plan({"only": 50000}, workers=4, least=1000) == (["only"], 1)
    assert lane_plan({}, workers=4, least=1000) == ([], 0)
