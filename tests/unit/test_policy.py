"""Policy files: validated with errors naming file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from pshub.cli import app
from pshub.policy import DEFAULT_POLICY_DIR, check_policy


def copy_policy(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    return target


def test_the_shipped_policy_is_valid() -> None:
    policy, errors = check_policy(DEFAULT_POLICY_DIR)
    assert errors == [] and policy is not None
    assert set(policy.rules.legal_entities) == {"US", "UK", "SG"}


def test_errors_name_the_file_and_field(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    ents = policy / "legal_entities.yaml"
    ents.write_text(ents.read_text().replace("currency: GBP", "currency: pounds", 1))
    lines = policy / "service_lines.yaml"
    lines.write_text(lines.read_text().replace("template: TPL-DATA", "template: TPL-NOPE"))
    _, errors = check_policy(policy)
    texts = [str(e) for e in errors]
    assert any(
        t.startswith("legal_entities.yaml: entities[1].currency:") and "ISO 4217" in t
        for t in texts
    ), texts
    _, errors = check_policy(policy.parent / "missing")
    assert any("file is missing" in str(e) for e in errors)


def test_cross_file_references_are_checked(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    lines = policy / "service_lines.yaml"
    lines.write_text(lines.read_text().replace("template: TPL-DATA", "template: TPL-NOPE"))
    _, errors = check_policy(policy)
    assert [str(e) for e in errors] == [
        "service_lines.yaml: service_lines[3].template: template 'TPL-NOPE' is not defined"
    ]


def test_check_config_exits_non_zero_and_prints_each_error(tmp_path: Path) -> None:
    policy = copy_policy(tmp_path)
    cards = policy / "rate_cards.yaml"
    cards.write_text(cards.read_text().replace('rate: "450.00"', 'rate: "-1"'))
    result = CliRunner().invoke(app, ["check-config", "--policy-dir", str(policy)])
    assert result.exit_code == 1
    assert "rate_cards[0].rates[0].rate" in result.output
    ok = CliRunner().invoke(app, ["check-config", "--policy-dir", str(DEFAULT_POLICY_DIR)])
    assert ok.exit_code == 0 and "3 legal entities" in ok.output
