"""Running state of one contract inside an engine run: allocation, facts, modifications."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pshub.domain.money import Money, allocate, quantum
from pshub.domain.revenue.allocation import AllocationBasis, AllocationLine, allocate_price
from pshub.domain.revenue.methods import ZERO, ObligationState
from pshub.domain.revenue.modifications import ModificationDecision, decide
from pshub.domain.revenue.obligations import (
    Activity,
    Method,
    Modification,
    Obligation,
    RevenueCase,
    RevenueInputError,
    Treatment,
)
from pshub.domain.revenue.price import VariableConsideration, constrained
from pshub.domain.revenue.results import RevenueFinding

_FACT_METHOD = {
    "cost": Method.PERCENT_COMPLETE,
    "hours": Method.TIME_AND_MATERIALS,
    "satisfied": Method.POINT_IN_TIME,
}
_FACT_FIELDS = {
    "cost": ("cost_incurred", "estimated_total_cost", "excluded_cost", "uninstalled_materials"),
    "hours": ("hours",),
    "satisfied": (),
}
Row = tuple[int, Activity, str]  # index in the case's activity, the row, its kind of fact


class ContractState:
    """Obligation states plus the price bookkeeping of one contract."""

    def __init__(self, case: RevenueCase) -> None:
        self.case = case
        self.currency = case.currency
        self.quantum = quantum(case.currency)
        self.index = {label: i for i, label in enumerate(case.periods)}
        self.states: dict[str, ObligationState] = {}
        self.findings: list[RevenueFinding] = []
        self.fixed = self.exact(case.contract.price, "contract.price")
        self.variable: VariableConsideration | None = case.contract.variable
        self.variable_included = ZERO
        self.variable_held_back = ZERO
        self.inception_weights: dict[str, Decimal] = {}
        self.allocation: tuple[AllocationLine, ...] = ()

    # -- helpers -------------------------------------------------------------------
    def money(self, amount: Decimal) -> Money:
        return Money.of(amount, self.currency)

    def cents(self, amount: Decimal) -> Decimal:
        """Round half-up to the currency's minor unit."""
        return amount.quantize(self.quantum, rounding=ROUND_HALF_UP)

    def exact(self, amount: Decimal, field: str) -> Decimal:
        """An amount that must already be in whole minor units."""
        rounded = amount.quantize(self.quantum, rounding=ROUND_HALF_UP)
        if rounded != amount:
            raise RevenueInputError(
                field, f"{amount} has more decimals than {self.currency} allows"
            )
        return rounded

    def period_index(self, label: str, field: str) -> int:
        if label not in self.index:
            raise RevenueInputError(field, f"{label!r} is not one of the periods")
        return self.index[label]

    def obligation(self, name: str | None, field: str) -> ObligationState:
        found = None if name is None else self.states.get(name)
        if found is not None:
            return found
        if name is None:
            raise RevenueInputError(field, "name the obligation this fact is about")
        raise RevenueInputError(field, f"{name!r} is not an obligation (yet)")

    def shared(self) -> list[ObligationState]:
        return [s for s in self.states.values() if s.shares_price]

    def transaction_price(self) -> Decimal:
        """Fixed (with modifications) + included variable + T&M consideration earned."""
        tm = ZERO
        for state in self.states.values():
            if not state.shares_price:
                tm += state.allocated
        return self.fixed + self.variable_included + tm

    def _add(self, spec: Obligation, field: str) -> ObligationState:
        if spec.id in self.states:
            raise RevenueInputError(f"{field}.id", f"{spec.id!r} is already an obligation")
        state = ObligationState(spec=spec)
        if spec.method is Method.STRAIGHT_LINE:
            state.start_idx = self.period_index(spec.start or "", f"{field}.start")
            state.end_idx = self.period_index(spec.end or "", f"{field}.end")
            if state.end_idx < state.start_idx:
                raise RevenueInputError(f"{field}.end", "ends before it starts")
        self.states[spec.id] = state
        return state

    # -- inception -------------------------------------------------------------------
    def start(self) -> None:
        """Create obligations and allocate the transaction price at contract inception."""
        for i, spec in enumerate(self.case.contract.obligations):
            self._add(spec, f"contract.obligations[{i}]")
        self._set_variable(self.variable, "contract.variable", period=None)
        obligations = self.case.contract.obligations
        lines = allocate_price(self.money(self.fixed), obligations, self.case.contract.discount_to)
        self.allocation = lines
        for ln in lines:
            self.states[ln.obligation].allocated = ln.allocated.amount
        self.inception_weights = {
            ln.obligation: ln.allocated.amount
            for ln in lines
            if ln.basis is not AllocationBasis.TIME_AND_MATERIALS
        }
        self._spread_variable(self.variable_included, "contract.variable")
        self.allocation = tuple(
            ln.model_copy(update={"allocated": self.money(self.states[ln.obligation].allocated)})
            for ln in lines
        )

    def _set_variable(
        self, variable: VariableConsideration | None, field: str, period: str | None
    ) -> None:
        included, held = constrained(variable)
        self.variable = variable
        self.variable_included = self.cents(included)
        self.variable_held_back = self.cents(held)
        if variable is not None:
            for name in variable.allocate_to:
                if name not in self.states or not self.states[name].shares_price:
                    raise RevenueInputError(
                        f"{field}.allocate_to", f"{name!r} is not an obligation sharing the price"
                    )
        if self.variable_held_back:
            self.findings.append(
                RevenueFinding(
                    code="variable_constrained",
                    message="variable consideration above the constraint is left out of the price",
                    period=period,
                    field=field,
                    amount=self.money(self.variable_held_back),
                )
            )

    def _spread_variable(self, amount: Decimal, field: str) -> None:
        """Allocate variable consideration (or a change of it) on the inception basis (32-43)."""
        if amount == 0:
            return
        assert self.variable is not None
        names = list(self.variable.allocate_to) or list(self.inception_weights)
        if not names:
            raise RevenueInputError(field, "no obligation to allocate variable consideration to")
        weights = [self.inception_weights.get(n, ZERO) for n in names]
        if self.variable.allocate_to:
            weights = [self.states[n].spec.standalone_price or Decimal(1) for n in names]
        if sum(weights, ZERO) <= 0:
            weights = [Decimal(1)] * len(names)
        for name, part in zip(names, allocate(self.money(amount), weights), strict=True):
            self.states[name].allocated += part.amount

    # -- facts ------------------------------------------------------------------------
    def apply_variable(self, variable: VariableConsideration, period: str, field: str) -> None:
        """Re-estimate variable consideration; the change follows the inception allocation."""
        before = self.variable_included
        self._set_variable(variable, field, period)
        self._spread_variable(self.variable_included - before, field)

    def apply_fact(self, row: Activity, kind: str, i: int) -> None:
        """Record a cost, hours or satisfaction fact (``activity[i]``) on its obligation."""
        field = f"activity[{i}]"
        state = self.obligation(row.obligation, f"{field}.obligation")
        wanted = _FACT_METHOD[kind]
        if state.method is not wanted:
            raise RevenueInputError(
                f"{field}.obligation",
                f"{state.spec.id!r} is {state.method.value}; {kind} needs {wanted.value}",
            )
        for name in _FACT_FIELDS[kind]:  # a row has one kind of fact: only its fields are set
            value = getattr(row, name)
            if value is not None and value < 0:
                raise RevenueInputError(f"{field}.{name}", "must not be negative")
        if kind == "hours":
            state.hours += row.hours or ZERO
        elif kind == "satisfied":
            state.satisfied = bool(row.satisfied)
        else:
            state.cost += row.cost_incurred or ZERO
            state.excluded += row.excluded_cost or ZERO
            state.materials += row.uninstalled_materials or ZERO
            if row.estimated_total_cost is not None:
                state.estimate = row.estimated_total_cost
                state.estimate_field = f"{field}.estimated_total_cost"
            elif not state.estimate_field:
                state.estimate_field = f"{field}.estimated_total_cost"

    # -- modifications ------------------------------------------------------------------
    def apply_modification(self, mod: Modification, idx: int, field: str) -> ModificationDecision:
        """Decide and apply a modification that takes effect at the start of period ``idx``."""
        period = self.case.periods[idx]
        decision = decide(mod, period, field)
        change = self.exact(mod.price_change, f"{field}.price_change")
        if decision.treatment is Treatment.SEPARATE_CONTRACT:
            lines = self._separate(mod, change, field)
        else:
            self._extend(mod, idx, field)
            lines = self._reprice(mod, change, idx, field, decision.treatment)
        self.fixed += change
        return decision.model_copy(update={"allocation": lines})

    def _separate(
        self, mod: Modification, change: Decimal, field: str
    ) -> tuple[AllocationLine, ...]:
        path = f"{field}.add_obligations"
        for j, spec in enumerate(mod.add_obligations):
            self._add(spec, f"{path}[{j}]")
        lines = allocate_price(self.money(change), mod.add_obligations, path=path)
        for ln in lines:
            self.states[ln.obligation].allocated = ln.allocated.amount
        return lines

    def _extend(self, mod: Modification, idx: int, field: str) -> None:
        for name, end in mod.extend.items():
            state = self.obligation(name, f"{field}.extend.{name}")
            if state.method is not Method.STRAIGHT_LINE:
                raise RevenueInputError(
                    f"{field}.extend.{name}", "only straight_line obligations have an end"
                )
            new_end = self.period_index(end, f"{field}.extend.{name}")
            if new_end < max(state.start_idx, idx - 1):
                raise RevenueInputError(
                    f"{field}.extend.{name}", "the new end is before the modification"
                )
            state.end_idx = new_end

    def _reprice(
        self, mod: Modification, change: Decimal, idx: int, field: str, treatment: Treatment
    ) -> tuple[AllocationLine, ...]:
        """Prospective: what remains goes to remaining obligations; catch-up: the change."""
        places = self.case.policy.progress_decimals
        remaining = [s for s in self.shared() if s.progress(idx - 1, places) < 1]
        path = f"{field}.add_obligations"
        added = [self._add(spec, f"{path}[{j}]") for j, spec in enumerate(mod.add_obligations)]
        targets = remaining + [s for s in added if s.shares_price]
        if treatment is Treatment.CUMULATIVE_CATCH_UP and not targets:
            targets = self.shared()
        amount = change
        if treatment is Treatment.PROSPECTIVE:
            amount += sum((s.allocated - s.recognized for s in remaining), ZERO)
        if not targets:
            if amount != 0:
                raise RevenueInputError(
                    f"{field}.price_change", "no remaining obligation to take the price change"
                )
            return ()
        if treatment is Treatment.PROSPECTIVE and amount < 0:
            raise RevenueInputError(
                f"{field}.price_change", "leaves negative consideration for what remains"
            )
        weights = [self._weight(s, idx, f"{path}") for s in targets]
        shares = (
            allocate(self.money(amount), weights)
            if sum(weights, ZERO) > 0
            else self._even(amount, len(targets))
        )
        lines = []
        for state, share in zip(targets, shares, strict=True):
            if treatment is Treatment.PROSPECTIVE:
                progress = state.progress(idx - 1, places)
                state.allocated = state.recognized + share.amount
                state.reset_base(progress)
            else:
                state.allocated += share.amount
            ssp = state.spec.standalone_price
            lines.append(
                AllocationLine(
                    obligation=state.spec.id,
                    standalone_price=None if ssp is None else self.money(ssp),
                    allocated=share,
                    basis=AllocationBasis.SOLE
                    if len(targets) == 1
                    else AllocationBasis.RELATIVE_SSP,
                )
            )
        return tuple(lines)

    def _even(self, amount: Decimal, n: int) -> list[Money]:
        return allocate(self.money(amount), [1] * n)

    def _weight(self, state: ObligationState, idx: int, path: str) -> Decimal:
        """Standalone price of what remains of an obligation at the modification date."""
        places = self.case.policy.progress_decimals
        left = 1 - state.progress(idx - 1, places)
        if state.spec.standalone_price is not None:
            return state.spec.standalone_price * left
        if state.recognized == 0 and state.allocated == 0:
            raise RevenueInputError(
                f"{path}", f"{state.spec.id!r} needs a standalone_price to share the price"
            )
        return max(state.allocated - state.recognized, ZERO)


def rows_by_period(case: RevenueCase) -> list[list[Row]]:
    """Validate activity rows (known, ordered periods; one kind of fact each) and group them
    by period index, each with its index in the case and its kind of fact."""
    index = {label: i for i, label in enumerate(case.periods)}
    grouped: list[list[Row]] = [[] for _ in case.periods]
    last = 0
    for i, row in enumerate(case.activity):
        at = index.get(row.period)
        if at is None:
            raise RevenueInputError(
                f"activity[{i}].period", f"{row.period!r} is not one of the periods"
            )
        if at < last:
            raise RevenueInputError(f"activity[{i}].period", "activity must be in period order")
        last = at
        found = row.kinds()
        if len(found) != 1:
            what = "no fact" if not found else "several kinds of fact: " + ", ".join(found)
            raise RevenueInputError(
                f"activity[{i}]", f"a row carries exactly one kind of fact, not {what}"
            )
        grouped[at].append((i, row, found[0]))
    return grouped
