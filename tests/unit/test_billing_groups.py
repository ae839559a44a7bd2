"""How a billing run splits its projects between posting workflows."""

from __future__ import annotations

from pshub.flows.time_to_bill import balanced_groups


def test_a_small_run_is_one_group_billed_inside_the_run() -> None:
    assert balanced_groups({"a": 10, "b": 5, "c": 3}, workers=4, least=1000, most=10000) == [
        ["a", "b", "c"]
    ]


def test_a_month_end_backlog_fills_every_worker_with_about_equal_groups() -> None:
    counts = {"big": 3000, "mid": 1500, "s1": 800, "s2": 700, "s3": 500}  # 6,500 entries
    groups = balanced_groups(counts, workers=4, least=1000, most=10000)
    assert len(groups) == 4
    assert sorted(p for g in groups for p in g) == sorted(counts)  # each project once, unsplit
    loads = sorted(sum(counts[p] for p in g) for g in groups)
    assert loads == [800, 1200, 1500, 3000]  # largest first, each into the lightest group


def test_a_backlog_bigger_than_the_workers_hold_makes_more_groups_of_bounded_size() -> None:
    counts = {f"p{n}": 2000 for n in range(50)}  # 100,000 entries
    groups = balanced_groups(counts, workers=4, least=1000, most=10000)
    assert len(groups) == 10
    assert {sum(counts[p] for p in g) for g in groups} == {10000}


def test_never_more_groups_than_projects() -> None:
    assert len(balanced_groups({"only": 50000}, workers=4, least=1000, most=10000)) == 1
