"""T&M invoice grouping, the not-to-exceed cap, credit matching and the re-bill rule."""

from __future__ import annotations

from datetime import date

from pshub.domain.money import Money
from pshub.domain.tm_invoicing import (
    CreditLine,
    Grouping,
    InvoiceableLine,
    PurchaseOrder,
    TmInvoicingRules,
    apply_cap,
    group_lines,
    invoice_id,
    line_description,
    match_credit,
    may_invoice,
)


def gbp(amount: str) -> Money:
    return Money.of(amount, "GBP")


def line(key: str, amount: str, day: date, prior: int = 0) -> InvoiceableLine:
    return InvoiceableLine(key, 1, gbp(amount), f"{day:%Y-%m}", day, prior_invoices=prior)


LINES = [
    line("time:a", "100", date(2026, 9, 30)),
    line("time:b", "200", date(2026, 10, 1)),
    line("expense:c", "50", date(2026, 10, 20)),
]
RULES = TmInvoicingRules(
    purchase_orders={
        "ctr_1": (
            PurchaseOrder(number="PO-2", valid_from=date(2026, 10, 15)),
            PurchaseOrder(number="PO-1", valid_from=date(2026, 9, 1)),
        )
    }
)


def test_per_project_grouping_makes_one_invoice_of_every_line() -> None:
    groups, findings = group_lines("ws1", "2026-10", "ctr_1", Grouping.PER_PROJECT, RULES, LINES)
    assert findings == [] and [len(g.lines) for g in groups] == [3]
    assert groups[0].total == gbp("350") and groups[0].key == "ws1:2026-10:ws1"


def test_per_month_grouping_splits_by_the_month_the_work_was_done() -> None:
    groups, _ = group_lines("ws1", "2026-10", "ctr_1", Grouping.PER_MONTH, RULES, LINES)
    assert [(g.label, g.total) for g in groups] == [
        ("2026-09", gbp("100")),
        ("2026-10", gbp("250")),
    ]


def test_per_po_grouping_takes_the_po_valid_on_the_work_date_and_reports_uncovered_work() -> None:
    groups, _ = group_lines("ws1", "2026-10", "ctr_1", Grouping.PER_PO, RULES, LINES)
    assert [(g.label, [x.source_key for x in g.lines]) for g in groups] == [
        ("PO-1", ["time:a", "time:b"]),
        ("PO-2", ["expense:c"]),
    ]
    early = [line("time:z", "80", date(2026, 8, 1))]
    groups, findings = group_lines("ws1", "2026-10", "ctr_1", Grouping.PER_PO, RULES, early)
    assert groups == [] and findings[0].code == "invoice.no_purchase_order"
    assert findings[0].amount == gbp("80")


def test_the_cap_keeps_lines_that_fit_and_states_what_waits() -> None:
    groups, _ = group_lines("ws1", "2026-10", "ctr_1", Grouping.PER_PROJECT, RULES, LINES)
    kept, findings = apply_cap(groups, gbp("700"), gbp("1000"))
    assert [x.source_key for x in kept[0].lines] == ["time:a", "time:b"]
    assert [(f.code, f.record, f.amount) for f in findings] == [
        ("invoice.cap_exceeded", "expense:c", gbp("50"))
    ]
    assert apply_cap(groups, gbp("0"), None) == (groups, [])


def test_the_invoice_id_is_stable_for_the_same_lines_and_new_for_a_re_bill() -> None:
    groups, _ = group_lines("ws1", "2026-10", "ctr_1", Grouping.PER_PROJECT, RULES, LINES)
    again, _ = group_lines("ws1", "2026-10", "ctr_1", Grouping.PER_PROJECT, RULES, LINES[::-1])
    assert invoice_id(groups[0]) == invoice_id(again[0])
    rebilled = [line("time:a", "100", date(2026, 9, 30), prior=1), *LINES[1:]]
    third, _ = group_lines("ws1", "2026-10", "ctr_1", Grouping.PER_PROJECT, RULES, rebilled)
    assert invoice_id(third[0]) != invoice_id(groups[0])


def test_a_credited_line_may_be_billed_again_exactly_once() -> None:
    table = [
        # invoices, credits, may invoice
        (0, 0, True),  # never billed
        (1, 0, False),  # live on an invoice
        (1, 1, True),  # credited: re-billable
        (2, 1, False),  # re-billed
        (2, 2, False),  # credited again: a person decides
    ]
    assert [(i, c, may_invoice(i, c)) for i, c, _ in table] == table


def test_a_memo_line_with_the_full_amount_of_a_named_line_credits_it() -> None:
    invoice = {"time:a": gbp("100"), "time:b": gbp("200")}
    memo = [CreditLine(line_description("time:a", "8 h"), gbp("100"))]
    assert match_credit("crn_1", memo, invoice).credited == ("time:a",)


def test_a_memo_for_the_whole_invoice_without_named_lines_credits_every_line() -> None:
    invoice = {"time:a": gbp("100"), "time:b": gbp("200")}
    match = match_credit("crn_1", [CreditLine("Full credit", gbp("300"))], invoice)
    assert match.credited == ("time:a", "time:b") and match.findings == ()


def test_a_part_credit_or_a_lump_sum_returns_nothing_and_states_its_amount() -> None:
    invoice = {"time:a": gbp("100"), "time:b": gbp("200")}
    memo = [
        CreditLine(line_description("time:a", "8 h"), gbp("40")),
        CreditLine("Goodwill", gbp("25")),
    ]
    match = match_credit("crn_1", memo, invoice)
    assert match.credited == ()
    assert [(f.code, f.amount) for f in match.findings] == [
        ("credit.partial", gbp("40")),
        ("credit.unmatched", gbp("25")),
    ]
