"""The billing-state ledger: never billed twice, whatever order events arrive in."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pshub.domain.ledger import (
    Action,
    LedgerRefusal,
    LineState,
    SourceLine,
    credit,
    fold,
    invoice,
    post,
)
from pshub.domain.money import Money

VALUE = Money.of("1000.00", "USD")


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def test_redelivery_of_the_posted_version_changes_nothing() -> None:
    first = post(SourceLine("time:1"), 1, usd("500"))
    again = post(first.line, 1, usd("500"))
    assert [e.action for e in first.entries] == [Action.POST]
    assert again.entries == () and again.line == first.line


def test_an_edit_after_posting_reverses_then_posts_the_new_version() -> None:
    posted = post(SourceLine("time:1"), 1, usd("500")).line
    edited = post(posted, 2, usd("600"))
    assert [(e.action, e.version, e.amount.amount) for e in edited.entries] == [
        (Action.REVERSE, 1, Decimal("500")),
        (Action.POST, 2, Decimal("600")),
    ]
    assert edited.line.state is LineState.POSTED and edited.line.version == 2


def test_an_unapproval_after_posting_is_a_reversal_only() -> None:
    posted = post(SourceLine("time:1"), 1, usd("500")).line
    undone = post(posted, 2, None)
    assert [e.action for e in undone.entries] == [Action.REVERSE]
    assert undone.line.state is LineState.UNBILLED


def test_a_stale_version_arriving_late_is_ignored() -> None:
    posted = post(post(SourceLine("time:1"), 1, usd("1")).line, 3, usd("3")).line
    assert post(posted, 2, usd("2")).entries == ()


def test_credit_then_rebill_exactly_once() -> None:
    line = post(SourceLine("time:1"), 1, usd("500")).line
    line = invoice(line, "INV-1", VALUE).line
    line = credit(line, "CM-1").line
    assert line.state is LineState.REBILLABLE and line.net_invoiced == usd("0")
    rebilled = post(line, 1, usd("500"))
    assert [e.action for e in rebilled.entries] == [Action.POST]
    assert post(rebilled.line, 1, usd("500")).entries == ()  # the second re-bill is a no-op
    with pytest.raises(LedgerRefusal):
        credit(rebilled.line, "CM-2")  # not invoiced again yet


def test_an_edit_after_invoicing_needs_a_credit_note() -> None:
    line = invoice(post(SourceLine("time:1"), 1, usd("500")).line, "INV-1", VALUE).line
    outcome = post(line, 2, usd("700"))
    assert outcome.entries == () and "credit note" in (outcome.note or "")


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["post", "unapprove", "invoice", "credit", "redeliver"]),
        st.integers(min_value=1, max_value=400),
    ),
    max_size=40,
)


@settings(max_examples=1500, deadline=None)
@given(events=EVENTS)
def test_net_billed_never_exceeds_the_value_and_each_credit_allows_one_rebill(events) -> None:
    line = SourceLine("time:p")
    version = 0
    log = []
    credits = rebills = 0
    for kind, cents in events:
        if kind in ("post", "unapprove"):
            version += 1
            outcome = post(line, version, usd(str(cents)) if kind == "post" else None)
        elif kind == "redeliver":
            outcome = post(line, max(version, 1), line.amount or usd("1"))
        else:
            try:
                outcome = (
                    invoice(line, f"INV-{len(log)}", VALUE)
                    if kind == "invoice"
                    else credit(line, f"CM-{len(log)}")
                )
            except LedgerRefusal:
                continue
        if line.state is LineState.REBILLABLE and outcome.line.state is LineState.POSTED:
            rebills += 1
        if outcome.line.state is LineState.REBILLABLE and line.state is LineState.INVOICED:
            credits += 1
        line = outcome.line
        log.extend(outcome.entries)
        live = sum(
            1 if e.action is Action.POST else -1 if e.action is Action.REVERSE else 0 for e in log
        ) - sum(1 for e in log if e.action is Action.CREDIT)
        assert live in (0, 1)  # at most one live posting
        assert (line.net_invoiced or usd("0")) <= VALUE
        assert rebills <= credits
        # The ledger alone rebuilds the state (versions seen but never posted leave no entry;
        # the store keeps the highest version seen beside the state).
        assert replace(fold(line.key, log), highest_version=0) == replace(line, highest_version=0)
