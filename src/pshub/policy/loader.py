"""Load and validate the policy directory. Every problem is reported with file and field path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pshub.domain.money import Money, check_currency, to_decimal
from pshub.domain.parties import LegalEntity, TaxProfile
from pshub.domain.projects import ProjectTemplate
from pshub.domain.provisioning import ProvisioningRules, ServiceLine
from pshub.domain.rates import RateCard, RoleRate
from pshub.domain.sales import BillingModel
from pshub.policy.billing import FILES as BILLING_FILES
from pshub.policy.billing import BillingPolicy, build_billing_policy, read_billing_files

DEFAULT_POLICY_DIR = Path(__file__).parent / "defaults"
FILES = ("legal_entities.yaml", "service_lines.yaml", "rate_cards.yaml")

_STRICT = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class PolicyError:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.path}: {self.message}"
            if self.path
            else f"{self.file}: {self.message}"
        )


class PolicyInvalid(ValueError):
    def __init__(self, errors: list[PolicyError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


class _Currency(BaseModel):
    @field_validator("currency", "billing_currencies", check_fields=False)
    @classmethod
    def _iso(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [check_currency(v) for v in value]
        return check_currency(value)


class _TaxFile(BaseModel):
    model_config = _STRICT
    code: str
    customer_country: str = Field(pattern=r"^[A-Z]{2}$")
    rate: str
    erp_tax_code: str

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> str:
        rate = to_decimal(value, "rate")
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1 (a fraction, e.g. '0.20')")
        return str(rate)


class _EntityFile(_Currency):
    model_config = _STRICT
    code: str = Field(min_length=1)
    name: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    currency: str
    erp_subsidiary_id: str = Field(min_length=1)
    billing_currencies: list[str] = []
    tax_profiles: list[_TaxFile] = []


class _EntitiesFile(BaseModel):
    model_config = _STRICT
    entities: list[_EntityFile]


class _TemplateFile(BaseModel):
    model_config = _STRICT
    code: str
    name: str
    tasks: list[str] = Field(min_length=1)


class _ServiceLineFile(BaseModel):
    model_config = _STRICT
    code: str
    name: str
    template: str
    billing_models: list[BillingModel] = list(BillingModel)


class _ServiceLinesFile(BaseModel):
    model_config = _STRICT
    templates: list[_TemplateFile]
    service_lines: list[_ServiceLineFile]


class _RateFile(BaseModel):
    model_config = _STRICT
    role: str
    rate: str
    valid_from: str | None = None
    valid_to: str | None = None

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> str:
        rate = to_decimal(value, "rate")
        if rate < 0:
            raise ValueError("rate must not be negative")
        return str(rate)


class _RateCardFile(_Currency):
    model_config = _STRICT
    code: str
    currency: str
    rates: list[_RateFile] = Field(min_length=1)


class _RateCardsFile(BaseModel):
    model_config = _STRICT
    rate_cards: list[_RateCardFile]


@dataclass(frozen=True)
class Policy:
    directory: Path
    rules: ProvisioningRules
    billing: BillingPolicy


def _read(directory: Path, name: str, model: type[BaseModel], errors: list[PolicyError]) -> Any:
    path = directory / name
    if not path.exists():
        errors.append(PolicyError(name, "", f"file is missing from {directory}"))
        return None
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        errors.append(PolicyError(name, "", f"not valid YAML: {exc}"))
        return None
    try:
        return model.model_validate(data or {})
    except ValidationError as exc:
        for err in exc.errors():
            loc = _loc(err["loc"])
            errors.append(PolicyError(name, loc, err["msg"]))
        return None


def _loc(parts: tuple[int | str, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _duplicates(name: str, what: str, codes: list[str], errors: list[PolicyError]) -> None:
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            errors.append(PolicyError(name, f"{what}[{i}].code", f"duplicate code {code!r}"))
        seen.add(code)


def check_policy(directory: Path | str) -> tuple[Policy | None, list[PolicyError]]:
    """Load the policy directory; return the policy (None if invalid) and every error found."""
    directory = Path(directory)
    errors: list[PolicyError] = []
    ents = _read(directory, FILES[0], _EntitiesFile, errors)
    lines = _read(directory, FILES[1], _ServiceLinesFile, errors)
    cards = _read(directory, FILES[2], _RateCardsFile, errors)
    billing_files = [
        _read(directory, name, model, errors)
        for name, model in read_billing_files(directory).items()
    ]
    if errors:
        return None, errors
    _duplicates(FILES[0], "entities", [e.code for e in ents.entities], errors)
    _duplicates(FILES[1], "templates", [t.code for t in lines.templates], errors)
    _duplicates(FILES[1], "service_lines", [s.code for s in lines.service_lines], errors)
    _duplicates(FILES[2], "rate_cards", [c.code for c in cards.rate_cards], errors)
    people = [c.psa_user_id for c in billing_files[1].consultants]
    for i, user in enumerate(people):
        if people.index(user) != i:
            errors.append(
                PolicyError(
                    BILLING_FILES[1],
                    f"consultants[{i}].psa_user_id",
                    f"duplicate consultant {user!r}",
                )
            )
    template_codes = {t.code for t in lines.templates}
    for i, sl in enumerate(lines.service_lines):
        if sl.template not in template_codes:
            errors.append(
                PolicyError(
                    FILES[1],
                    f"service_lines[{i}].template",
                    f"template {sl.template!r} is not defined",
                )
            )
    if errors:
        return None, errors
    try:
        rules = ProvisioningRules(
            legal_entities={e.code: _entity(e) for e in ents.entities},
            service_lines={
                s.code: ServiceLine(
                    code=s.code,
                    name=s.name,
                    template=s.template,
                    billing_models=tuple(s.billing_models),
                )
                for s in lines.service_lines
            },
            templates={
                t.code: ProjectTemplate(code=t.code, name=t.name, tasks=tuple(t.tasks))
                for t in lines.templates
            },
            rate_cards={c.code: _card(c) for c in cards.rate_cards},
        )
    except (ValidationError, ValueError) as exc:
        return None, [PolicyError("policy", "", str(exc))]
    return Policy(
        directory=directory, rules=rules, billing=build_billing_policy(*billing_files)
    ), []


def load_policy(directory: Path | str | None = None) -> Policy:
    """Load the policy or raise :class:`PolicyInvalid` listing every error."""
    policy, errors = check_policy(directory or DEFAULT_POLICY_DIR)
    if policy is None:
        raise PolicyInvalid(errors)
    return policy


def _entity(e: _EntityFile) -> LegalEntity:
    return LegalEntity(
        code=e.code,
        name=e.name,
        country=e.country,
        currency=e.currency,
        erp_subsidiary_id=e.erp_subsidiary_id,
        billing_currencies=tuple(e.billing_currencies),
        tax_profiles=tuple(
            TaxProfile(
                code=t.code,
                customer_country=t.customer_country,
                rate=to_decimal(t.rate),
                erp_tax_code=t.erp_tax_code,
            )
            for t in e.tax_profiles
        ),
    )


def _card(c: _RateCardFile) -> RateCard:
    from datetime import date

    def day(text: str | None) -> date | None:
        return date.fromisoformat(text) if text else None

    return RateCard(
        code=c.code,
        currency=c.currency,
        rates=tuple(
            RoleRate(
                role=r.role,
                rate=Money.of(r.rate, c.currency),
                valid_from=day(r.valid_from),
                valid_to=day(r.valid_to),
            )
            for r in c.rates
        ),
    )
