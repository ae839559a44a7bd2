"""Time, expenses, invoices, credit memos, payments and journals round-trip through NetSuite."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from netsuite_helpers import Books, Sandbox, time_bill

from pshub.connectors.errors import RejectedError
from pshub.connectors.netsuite import NetSuiteConnector
from pshub.connectors.netsuite.schemas import (
    CreditMemoDraft,
    ExpenseLine,
    InvoiceDraft,
    InvoiceLine,
    JournalDraft,
    JournalLine,
    PaymentApplication,
    PaymentDraft,
)
from pshub.domain.ids import canonical_id, external_id
from pshub.domain.money import money

MARCH = date(2025, 3, 14)
MARCH_PERIOD = "63"  # (2025 - 2020) * 12 + 3


@pytest.fixture
def books(netsuite: Sandbox) -> Books:
    return Books(netsuite)


def invoice_draft(books: Books, name: str = "INV-1", **changes: object) -> InvoiceDraft:
    draft = InvoiceDraft(
        canonical_id=canonical_id("invoice", "pshub", name),
        customer_job_id=books.job_id,
        currency="USD",
        tran_date=MARCH,
        lines=(
            InvoiceLine(
                item_id="1",
                quantity=Decimal("10"),
                rate=money("150.00", "USD"),
                amount=money("1500.00", "USD"),
                description="Consulting, March",
            ),
            InvoiceLine(
                item_id="2",
                quantity=Decimal("1"),
                rate=money("245.10", "USD"),
                amount=money("245.10", "USD"),
                description="Travel",
            ),
        ),
    )
    return draft.model_copy(update=changes)


def payment(books: Books, invoice_id: str, amount: str, name: str) -> PaymentDraft:
    return PaymentDraft(
        canonical_id=canonical_id("payment", "bank", name),
        customer_id=books.customer_id,
        amount=money(amount, "USD"),
        tran_date=MARCH,
        applications=(
            PaymentApplication(invoice_internal_id=invoice_id, amount=money(amount, "USD")),
        ),
    )


def journal(lines: tuple[JournalLine, ...], name: str = "JE-1", **changes: object) -> JournalDraft:
    draft = JournalDraft(
        canonical_id=canonical_id("journal", "pshub", name),
        subsidiary_id="1",
        currency="USD",
        tran_date=MARCH,
        memo="Unbilled revenue, March",
        lines=lines,
    )
    return draft.model_copy(update=changes)


BALANCED = (
    JournalLine(account_id="3", debit=money("1745.10", "USD"), memo="Unbilled receivable"),
    JournalLine(account_id="5", credit=money("1500.00", "USD"), memo="Services revenue"),
    JournalLine(account_id="6", credit=money("245.10", "USD"), memo="Expense recovery"),
)


def test_a_time_bill_round_trips_with_exact_hours_and_rate(
    netsuite: Sandbox, erp: NetSuiteConnector, books: Books
) -> None:
    line = time_bill(books, 1, hours="7.25", task="9001")

    [result] = erp.upsert_time_bills([line])

    assert result.posted and result.internal_id
    body = netsuite.send("GET", f"/timeBill/{result.internal_id}").json()
    assert body["externalId"] == external_id(line.external_id)
    assert (body["hours"], body["rate"], body["isBillable"]) == (7.25, 150.0, True)
    assert body["customer"]["id"] == books.job_id
    assert body["customer"]["refName"] == "Initech rollout"
    assert body["employee"]["refName"] == "Ada Byron"
    assert body["item"]["refName"] == "Professional Services"
    assert body["caseTaskEvent"]["id"] == "9001"
    assert body["subsidiary"]["id"] == "1"
    assert body["approvalStatus"]["refName"] == "Approved"


def test_a_time_bill_response_keeps_cents_exact(netsuite: Sandbox, books: Books) -> None:
    netsuite.send(
        "PUT",
        "/timeBill/eid:T-1",
        json={
            "employee": {"id": books.employee_id},
            "tranDate": "2025-03-03",
            "hours": "0.1",
            "rate": "100.10",
        },
    )

    raw = netsuite.send("GET", "/timeBill/eid:T-1").text

    assert '"hours":0.1' in raw and '"rate":100.10' in raw


def test_a_reversal_zeroes_the_original_time_bill(
    netsuite: Sandbox, erp: NetSuiteConnector, books: Books
) -> None:
    original = time_bill(books, 1)
    [posted] = erp.upsert_time_bills([original])
    reversal = time_bill(books, 2, reverses=original.external_id)

    [reversed_] = erp.upsert_time_bills([reversal])

    assert reversed_.internal_id == posted.internal_id
    body = netsuite.send("GET", f"/timeBill/{posted.internal_id}").json()
    assert (body["hours"], body["isBillable"]) == (0, False)
    assert netsuite.admin("GET", "/stats")["records"]["timeBill"] == 1


def test_a_negative_duration_is_refused_naming_hours(erp: NetSuiteConnector, books: Books) -> None:
    [result] = erp.upsert_time_bills([time_bill(books, 1, hours="-2")])

    assert not result.posted
    assert result.fields == ("hours",)


def test_an_expense_report_round_trips_with_its_expense_line(
    netsuite: Sandbox, erp: NetSuiteConnector, books: Books
) -> None:
    line = ExpenseLine(
        external_id=canonical_id("expense", "kantata", "E1"),
        employee_ref=books.employee_id,
        customer_job_id=books.job_id,
        date=MARCH,
        amount=money("245.10", "USD"),
        category_id="1",
        memo="Flight to client",
    )

    [result] = erp.upsert_expenses([line])

    assert result.posted
    body = netsuite.send(
        "GET", f"/expenseReport/{result.internal_id}", params={"expandSubResources": "true"}
    ).json()
    [expense] = body["expense"]["items"]
    assert (expense["amount"], expense["isBillable"], expense["category"]["refName"]) == (
        245.1,
        True,
        "Travel",
    )
    assert expense["customer"]["id"] == books.job_id
    assert body["total"] == 245.1
    assert body["postingPeriod"]["refName"] == "Mar 2025"


def test_an_invoice_gets_a_number_totals_and_status_open(
    erp: NetSuiteConnector, books: Books
) -> None:
    internal_id = erp.create_invoice(invoice_draft(books))

    invoice = erp.get_invoice(internal_id)

    assert invoice.tran_id == f"INV{internal_id}"
    assert invoice.status == "Open"
    assert invoice.total == money("1745.10", "USD")
    assert invoice.amount_remaining == money("1745.10", "USD")
    assert [line.amount for line in invoice.lines] == [
        money("1500.00", "USD"),
        money("245.10", "USD"),
    ]
    assert invoice.posting_period_id == MARCH_PERIOD
    assert erp.create_invoice(invoice_draft(books)) == internal_id


def test_a_partial_payment_leaves_the_invoice_open_with_an_amount_remaining(
    erp: NetSuiteConnector, books: Books
) -> None:
    invoice_id = erp.create_invoice(invoice_draft(books))

    erp.apply_payment(payment(books, invoice_id, "1000.00", "P1"))

    invoice = erp.get_invoice(invoice_id)
    assert invoice.status == "Open"
    assert invoice.amount_remaining == money("745.10", "USD")


def test_paying_the_rest_marks_the_invoice_paid_in_full_and_replays_change_nothing(
    erp: NetSuiteConnector, books: Books
) -> None:
    invoice_id = erp.create_invoice(invoice_draft(books))
    erp.apply_payment(payment(books, invoice_id, "1000.00", "P1"))

    erp.apply_payment(payment(books, invoice_id, "745.10", "P2"))
    erp.apply_payment(payment(books, invoice_id, "745.10", "P2"))  # a replayed step

    invoice = erp.get_invoice(invoice_id)
    assert invoice.status == "Paid In Full"
    assert invoice.amount_remaining == money("0.00", "USD")


def test_a_payment_larger_than_what_is_due_is_refused(erp: NetSuiteConnector, books: Books) -> None:
    invoice_id = erp.create_invoice(invoice_draft(books))

    with pytest.raises(RejectedError) as caught:
        erp.apply_payment(payment(books, invoice_id, "2000.00", "P1"))

    assert caught.value.fields == ("apply.items[0].amount",)


def test_payments_are_listed_since_a_moment(erp: NetSuiteConnector, books: Books) -> None:
    invoice_id = erp.create_invoice(invoice_draft(books))
    since = datetime.now(UTC) - timedelta(minutes=1)
    payment_id = erp.apply_payment(payment(books, invoice_id, "100.00", "P1"))

    listed = erp.list_payments(since)
    later = erp.list_payments(datetime.now(UTC) + timedelta(minutes=1))

    assert [p.internal_id for p in listed] == [payment_id]
    assert listed[0].amount == money("100.00", "USD")
    assert listed[0].applications[0].invoice_internal_id == invoice_id
    assert listed[0].canonical_id == canonical_id("payment", "bank", "P1")
    assert later == []


def test_a_credit_memo_from_an_invoice_is_applied_to_it(
    netsuite: Sandbox, erp: NetSuiteConnector, books: Books
) -> None:
    invoice_id = erp.create_invoice(invoice_draft(books))
    credit = CreditMemoDraft(
        canonical_id=canonical_id("invoice", "pshub", "CM-1"),
        invoice_internal_id=invoice_id,
        tran_date=MARCH,
        lines=(
            InvoiceLine(
                item_id="2",
                quantity=Decimal("1"),
                rate=money("245.10", "USD"),
                amount=money("245.10", "USD"),
                description="Travel not billable",
            ),
        ),
    )

    memo_id = erp.create_credit_memo(credit)

    invoice = erp.get_invoice(invoice_id)
    assert invoice.amount_remaining == money("1500.00", "USD")
    memo = netsuite.send("GET", f"/creditMemo/{memo_id}").json()
    assert (memo["applied"], memo["unapplied"], memo["status"]["refName"]) == (
        245.1,
        0,
        "Fully Applied",
    )
    assert memo["createdFrom"]["id"] == invoice_id
    assert memo["entity"]["id"] == books.job_id


def test_a_balanced_journal_posts_and_an_unbalanced_one_is_refused(
    netsuite: Sandbox, erp: NetSuiteConnector
) -> None:
    posted = erp.post_journal(journal(BALANCED))
    unbalanced = (BALANCED[0], BALANCED[1])

    with pytest.raises(RejectedError) as caught:
        erp.post_journal(journal(unbalanced, "JE-2"))

    assert caught.value.code == "USER_ERROR"
    assert caught.value.fields == ("line",)
    assert "not in balance" in caught.value.message
    body = netsuite.send("GET", f"/journalEntry/{posted}", params={"expandSubResources": "true"})
    lines = json.loads(body.text, parse_float=Decimal)["line"]["items"]
    assert [(line["debit"] if "debit" in line else -line["credit"]) for line in lines] == [
        Decimal("1745.10"),
        Decimal("-1500.00"),
        Decimal("-245.10"),
    ]
    assert netsuite.admin("GET", "/stats")["records"]["journalEntry"] == 1


def test_posting_into_a_closed_period_is_refused_naming_the_posting_period(
    netsuite: Sandbox, erp: NetSuiteConnector, books: Books
) -> None:
    netsuite.admin("POST", f"/periods/{MARCH_PERIOD}", {"closed": True})

    with pytest.raises(RejectedError) as journal_refused:
        erp.post_journal(journal(BALANCED))
    with pytest.raises(RejectedError) as invoice_refused:
        erp.create_invoice(invoice_draft(books))

    assert journal_refused.value.fields == invoice_refused.value.fields == ("postingPeriod",)
    assert "not within an open accounting period" in journal_refused.value.message


def test_accounting_periods_carry_their_closed_flag(
    netsuite: Sandbox, erp: NetSuiteConnector
) -> None:
    netsuite.admin("POST", "/periods/62", {"closed": True})

    periods = erp.accounting_periods(date(2025, 1, 1), date(2025, 3, 31))

    assert [(p.name, p.closed) for p in periods] == [
        ("Jan 2025", False),
        ("Feb 2025", True),
        ("Mar 2025", False),
    ]
    assert periods[1].end == date(2025, 2, 28)


def test_accounting_periods_are_read_only(netsuite: Sandbox) -> None:
    response = netsuite.send("PATCH", "/accountingPeriod/62", json={"closed": True})

    assert response.status_code == 403


def test_an_invoice_pending_approval_cannot_be_changed_until_approved(
    erp: NetSuiteConnector, books: Books
) -> None:
    draft = invoice_draft(books, pending_approval=True)
    invoice_id = erp.create_invoice(draft)
    changed = draft.model_copy(update={"memo": "Discount agreed"})

    with pytest.raises(RejectedError) as caught:
        erp.create_invoice(changed)
    assert erp.get_invoice(invoice_id).status == "Pending Approval"
    erp.create_invoice(draft)  # replaying the same invoice while pending is not a change
    erp.set_approval("invoice", invoice_id, approved=True)
    erp.create_invoice(changed.model_copy(update={"pending_approval": False}))

    assert caught.value.code == "USER_ERROR"
    assert caught.value.fields == ("memo",)
    assert erp.get_invoice(invoice_id).status == "Open"


def test_a_journal_pending_approval_refuses_edits(
    netsuite: Sandbox, erp: NetSuiteConnector
) -> None:
    journal_id = erp.post_journal(journal(BALANCED, pending_approval=True))

    response = netsuite.send("PATCH", f"/journalEntry/{journal_id}", json={"memo": "changed"})

    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "memo"
