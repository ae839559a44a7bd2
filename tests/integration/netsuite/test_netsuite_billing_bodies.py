"""The billing port's fast paths give what the model paths gave, on the wire and back.

``reference_time_bill`` and ``reference_expense`` are the conversions ``billing_port`` made
before it built bodies straight from ErpBillingLine (a ``TimeBillLine`` / ``ExpenseLine``, then
``ledger_mapping``): every case must give the same bytes on the wire, key order included.
``model_outcomes`` is how a finished task page was read before (every task into a model): the
bulk writer's results must be equal, lax and failed pages included. One test posts a mixed
batch through the sandbox.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from netsuite_helpers import Books, Sandbox

from pshub.connectors.netsuite import NetSuiteConnector, bulk
from pshub.connectors.netsuite import ledger_mapping as lm
from pshub.connectors.netsuite.billing_mapping import (
    EXPENSE_CATEGORY,
    Refs,
    checked_expense,
    expense_body,
    time_bill_body,
    transaction_date,
)
from pshub.connectors.netsuite.models import NsTaskPage
from pshub.connectors.netsuite.schemas import ExpenseLine, PostResult, TimeBillLine
from pshub.connectors.netsuite.wirejson import dumps, loads
from pshub.domain.money import Money, MoneyError
from pshub.flows.ports import ErpBillingLine

LINE = ErpBillingLine(
    key="tim_a1",
    external_id="PSHUB-tim_a1",
    action="post",
    kind="time",
    customer_id="105",
    job_id="106",
    subsidiary_id="1",
    employee="2002-Ada",
    work_date=date(2026, 10, 5),
    posting_date=date(2026, 10, 6),
    period="2026-10",
    hours=Decimal("7.50"),
    rate=Decimal("180.00"),
    amount=Decimal("1350.00"),
    cost=Decimal("600.00"),
    currency="USD",
    billable=True,
    tax_code="",
    memo='Design review "phase 2" — café',
)
EXPENSE = replace(
    LINE, key="exp_a1", kind="expense", hours=None, rate=None, amount=Decimal("84.20")
)

TIME_CASES: dict[str, ErpBillingLine] = {
    "a billable line": LINE,
    "a non-billable line": replace(LINE, billable=False),
    "a line without hours": replace(LINE, hours=None),
    "a line with zero hours written 0.00": replace(LINE, hours=Decimal("0.00")),
    "a line without a rate": replace(LINE, rate=None),
    "a line approved after the cutoff": replace(LINE, work_date=date(2026, 9, 30)),
    "an exponent rate": replace(LINE, rate=Decimal("1.8E+2")),
    "a reversal": replace(LINE, key="tim_a2", action="reverse", reverses="tim_a1"),
    "a reversal without a rate": replace(LINE, key="tim_a2", reverses="tim_a1", rate=None),
    "a reversal of a non-billable line": replace(
        LINE, key="tim_a2", reverses="tim_a1", billable=False
    ),
    "an empty memo": replace(LINE, memo=""),
}
EXPENSE_CASES: dict[str, ErpBillingLine] = {
    "a billable expense": EXPENSE,
    "a non-billable expense": replace(EXPENSE, billable=False),
    "an expense in another currency": replace(EXPENSE, currency="GBP"),
    "an expense approved after the cutoff": replace(EXPENSE, work_date=date(2026, 9, 2)),
    "an expense reversal": replace(EXPENSE, key="exp_a2", reverses="exp_a1"),
    "a non-billable expense reversal": replace(
        EXPENSE, key="exp_a2", reverses="exp_a1", billable=False
    ),
}


def reference_time_bill(line: ErpBillingLine, employee: str) -> dict[str, Any]:
    amount = Money.of(line.amount, line.currency)
    rate = (
        Money.of(line.rate, line.currency) if line.rate is not None else Money.zero(line.currency)
    )
    model = TimeBillLine.model_construct(
        external_id=line.key,
        customer_job_id=line.job_id,
        employee_ref=employee,
        date=transaction_date(line),
        hours=line.hours or Decimal(0),
        rate=rate,
        amount=amount,
        billable=line.billable,
        tax_code=line.tax_code,
        subsidiary_id=line.subsidiary_id,
        memo=line.memo,
        reverses=line.reverses,
    )
    return lm.time_bill_body(model)


def reference_expense(line: ErpBillingLine, employee: str, currency_id: str) -> dict[str, Any]:
    model = ExpenseLine(
        external_id=line.key if line.reverses is None else line.reverses,
        employee_ref=employee,
        customer_job_id=line.job_id,
        date=transaction_date(line),
        amount=Money.zero(line.currency) if line.reverses else Money.of(line.amount, line.currency),
        category_id=EXPENSE_CATEGORY,
        billable=line.billable and line.reverses is None,
        subsidiary_id=line.subsidiary_id,
        memo=line.memo,
    )
    return lm.expense_body(model, currency_id)


@pytest.mark.parametrize("case", TIME_CASES)
def test_a_time_bill_body_is_byte_for_byte_the_one_the_model_path_wrote(case: str) -> None:
    line = TIME_CASES[case]

    body = time_bill_body(line, "107", Refs())

    assert body == reference_time_bill(line, "107")
    assert dumps(body) == dumps(reference_time_bill(line, "107"))


@pytest.mark.parametrize("case", EXPENSE_CASES)
def test_an_expense_body_is_byte_for_byte_the_one_the_model_path_wrote(case: str) -> None:
    line = EXPENSE_CASES[case]

    body = expense_body(checked_expense(line, "107"), "4", Refs())

    assert body == reference_expense(line, "107", "4")
    assert dumps(body) == dumps(reference_expense(line, "107", "4"))


def test_bodies_sharing_reference_objects_encode_as_separate_bodies_would() -> None:
    refs = Refs()
    lines = [*TIME_CASES.values()]

    shared = [time_bill_body(line, "1", refs) for line in lines]

    assert dumps({"items": shared}) == dumps(
        {"items": [reference_time_bill(line, "1") for line in lines]}
    )


@pytest.mark.parametrize(
    "bad",
    [
        replace(LINE, currency="usd"),
        replace(LINE, rate=Decimal("NaN")),
        replace(LINE, amount=Decimal("Infinity")),
        replace(LINE, amount=1.5),  # type: ignore[arg-type]
    ],
    ids=["a lower-case currency", "a NaN rate", "an infinite amount", "a float amount"],
)
def test_a_line_that_cannot_be_money_is_refused_as_before(bad: ErpBillingLine) -> None:
    with pytest.raises(MoneyError) as before:
        reference_time_bill(bad, "107")
    with pytest.raises(MoneyError) as now:
        time_bill_body(bad, "107", Refs())

    assert str(now.value) == str(before.value)


def test_a_mixed_batch_posts_time_bills_expense_reports_and_a_reversal(
    netsuite: Sandbox, erp: NetSuiteConnector
) -> None:
    books = Books(netsuite)
    time = replace(LINE, job_id=books.job_id, employee="2002-Ada", period="2026-10")
    lines = [
        replace(time, key="tim_b1"),
        replace(time, key="tim_b2", billable=False, hours=Decimal("2")),
        replace(EXPENSE, key="exp_b1", job_id=books.job_id),
        replace(time, key="tim_b3", employee=None),
    ]
    erp.post_billing_lines(lines)

    results = erp.post_billing_lines(
        [*lines, replace(time, key="tim_b4", action="reverse", reverses="tim_b1")]
    )

    assert [(r.key, r.ok, r.fields) for r in results] == [
        ("tim_b1", True, ()),
        ("tim_b2", True, ()),
        ("exp_b1", True, ()),
        ("tim_b3", False, ("employee",)),
        ("tim_b4", True, ()),
    ]
    assert results[0].erp_id == results[4].erp_id  # the reversal updated the original
    bills = {b["externalId"]: b for b in netsuite.admin("GET", "/records/timeBill")}
    assert set(bills) == {"PSHUB-tim_b1", "PSHUB-tim_b2"}
    zeroed = bills["PSHUB-tim_b1"]
    assert (Decimal(str(zeroed["hours"])), zeroed["isBillable"]) == (Decimal(0), False)
    assert zeroed["memo"] == "Reversed by PSHUB-tim_b4"
    [report] = netsuite.admin("GET", "/records/expenseReport")
    assert report["externalId"] == "PSHUB-exp_b1"


def task_page(*tasks: dict[str, Any]) -> Any:
    """A finished task page as the connector parses it (numbers as Decimal)."""
    return loads(dumps({"links": [], "count": len(tasks), "hasMore": False, "items": [*tasks]}))


def succeeded(task_id: str, internal_id: str) -> dict[str, Any]:
    location = f"http://ns.example/services/rest/record/v1/timeBill/{internal_id}"
    return {
        "links": [{"rel": "self", "href": f"http://ns.example/task/{task_id}"}],
        "completed": True,
        "id": task_id,
        "progress": "succeeded",
        "result": {"status": 204, "location": location},
    }


FAILED = {
    "completed": True,
    "id": "2",
    "progress": "failed",
    "result": {
        "status": 400,
        "o:errorDetails": [
            {"detail": "Invalid hours", "o:errorCode": "USER_ERROR", "o:errorPath": "hours"}
        ],
    },
}
PAGES: dict[str, Any] = {
    "every task succeeded": task_page(succeeded("1", "501"), succeeded("2", "502")),
    "tasks out of order": task_page(succeeded("2", "502"), succeeded("1", "501")),
    "a failed task": task_page(succeeded("1", "501"), FAILED),
    "a lax status and flag": task_page(
        succeeded("1", "501"),
        {**succeeded("2", "502"), "completed": "true", "result": {"status": "204"}},
    ),
    "a result without a location": task_page(
        succeeded("1", "501"), {**succeeded("2", "502"), "result": {"status": 204}}
    ),
    "details under the field's own name": task_page(
        succeeded("1", "501"),
        {**succeeded("2", "502"), "result": {"status": 204, "details": []}},
    ),
}


def model_outcomes(canonicals: list[str], page: Any) -> list[PostResult]:
    """How the connector read every finished page before: the models, then ``_outcome``."""
    tasks = sorted(
        NsTaskPage.model_validate(page).items,
        key=lambda t: int(t.id) if t.id.isdigit() else 0,
    )
    return [bulk._outcome("timeBill", c, t) for c, t in zip(canonicals, tasks, strict=True)]


@pytest.mark.parametrize("case", PAGES)
def test_a_task_page_gives_the_results_the_models_read_from_it(case: str) -> None:
    canonicals = ["tim_c1", "tim_c2"]

    results = bulk._outcomes("timeBill", canonicals, PAGES[case])

    expected = model_outcomes(canonicals, PAGES[case])
    assert results == expected
    assert [r.model_fields_set for r in results] == [r.model_fields_set for r in expected]


def test_a_page_with_a_missing_task_is_refused_as_before() -> None:
    page = task_page(succeeded("1", "501"))

    with pytest.raises(ValueError):
        model_outcomes(["tim_c1", "tim_c2"], page)
    with pytest.raises(ValueError):
        bulk._outcomes("timeBill", ["tim_c1", "tim_c2"], page)
