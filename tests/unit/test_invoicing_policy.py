"""The invoicing policy file: defaults load; every mistake names the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pshub.policy.invoicing import check_invoicing, load_invoicing
from pshub.policy.loader import PolicyInvalid


def test_the_built_in_policy_loads_and_a_directory_without_the_file_falls_back_to_it(
    tmp_path: Path,
) -> None:
    rules = load_invoicing()
    assert rules.acceptance_service_lines == frozenset({"ADVISORY"})
    assert (rules.payment_terms_days, rules.invoice_item_id) == (30, "3")
    assert load_invoicing(tmp_path) == rules


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("payment_terms_days: -1\n", "payment_terms_days"),
        ("invoice_item_id: Milestone Fee\n", "invoice_item_id"),
        (
            "acceptance_required: {service_lines: [ADVISORY], teams: []}\n",
            "acceptance_required.teams",
        ),
        ("tax_code_ids: {VAT:S-GB: S-GB}\n", "tax_code_ids"),
        ("require_prior_milestone_invoiced: perhaps\n", "require_prior_milestone_invoiced"),
    ],
)
def test_a_bad_value_is_reported_with_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    (tmp_path / "invoicing.yaml").write_text(text)
    rules, errors = check_invoicing(tmp_path)
    assert rules is None
    assert [(e.file, e.path) for e in errors] == [("invoicing.yaml", field)]
    with pytest.raises(PolicyInvalid, match=r"invoicing\.yaml"):
        load_invoicing(tmp_path)


def test_a_file_that_is_not_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "invoicing.yaml").write_text("payment_terms_days: [30\n")
    _, errors = check_invoicing(tmp_path)
    assert errors[0].file == "invoicing.yaml" and "cannot be read" in errors[0].message


def test_the_tm_grouping_defaults_to_per_project_and_reads_contract_and_service_line_choices(
    tmp_path: Path,
) -> None:
    from datetime import date

    from pshub.domain.tm_invoicing import Grouping

    assert load_invoicing().tm.grouping("ctr_x", "ADVISORY") is Grouping.PER_PROJECT
    (tmp_path / "invoicing.yaml").write_text(
        "tm_invoicing:\n"
        "  grouping: per_month\n"
        "  service_lines: {ADVISORY: per_project}\n"
        "  contracts: {ctr_po: per_po}\n"
        "  purchase_orders:\n"
        "    ctr_po: [{number: PO-7, valid_from: 2026-01-01}]\n"
    )
    tm = load_invoicing(tmp_path).tm
    assert tm.grouping("ctr_x", "DELIVERY") is Grouping.PER_MONTH
    assert tm.grouping("ctr_x", "ADVISORY") is Grouping.PER_PROJECT
    assert tm.grouping("ctr_po", "ADVISORY") is Grouping.PER_PO
    assert tm.po_for("ctr_po", date(2026, 3, 1)) == "PO-7"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("tm_invoicing: {grouping: per_week}\n", "tm_invoicing.grouping"),
        ("tm_invoicing: {contracts: {ctr_1: per_quarter}}\n", "tm_invoicing.contracts.ctr_1"),
        ("tm_invoicing: {contracts: {ctr_1: per_po}}\n", "tm_invoicing"),
        (
            "tm_invoicing: {purchase_orders: {ctr_1: [{number: PO-1}]}}\n",
            "tm_invoicing.purchase_orders.ctr_1[0].valid_from",
        ),
        ("tm_invoicing: {time_item_id: Hours}\n", "tm_invoicing.time_item_id"),
    ],
)
def test_a_bad_tm_grouping_is_reported_with_file_and_field(
    tmp_path: Path, text: str, field: str
) -> None:
    (tmp_path / "invoicing.yaml").write_text(text)
    rules, errors = check_invoicing(tmp_path)
    assert rules is None
    assert [(e.file, e.path) for e in errors] == [("invoicing.yaml", field)]
