"""Measures of progress and the cumulative revenue they allow, per obligation.

* time_and_materials: revenue = hours x rate as the work is done; the right-to-invoice
  practical expedient (ASC 606-10-55-18, IFRS 15.B16).
* point_in_time: nothing, then everything when the obligation is satisfied (acceptance).
* percent_complete: cost-to-cost input method (ASC 606-10-55-20/21, IFRS 15.B18/B19).
  Costs that do not depict progress (``excluded_cost``) leave the numerator; uninstalled
  materials leave numerator and denominator and earn revenue equal to their cost.
* straight_line: elapsed service periods / service periods, for retainers and stand-ready
  obligations (ASC 606-10-55-... Example 18, IFRS 15.IE92-IE94).

Revenue is cumulative: target = base + (allocated - base) x (progress - base progress) /
(1 - base progress); the base is zero until a prospective modification resets it, so a
change of estimate or price is a cumulative catch-up unless a modification says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from pshub.domain.revenue.obligations import Method, Obligation, RevenueInputError

ONE = Decimal(1)
ZERO = Decimal(0)


def round_progress(progress: Decimal, places: int | None) -> Decimal:
    """Apply the rounding policy to a progress ratio (None: unrounded)."""
    if places is None:
        return progress
    return progress.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class ObligationState:
    """Mutable running state of one obligation inside one engine run."""

    spec: Obligation
    start_idx: int = 0
    end_idx: int = 0
    allocated: Decimal = ZERO
    recognized: Decimal = ZERO
    base_revenue: Decimal = ZERO
    base_progress: Decimal = ZERO
    base_materials: Decimal = ZERO
    cost: Decimal = ZERO
    excluded: Decimal = ZERO
    materials: Decimal = ZERO
    estimate: Decimal | None = None
    estimate_field: str = ""
    hours: Decimal = ZERO
    satisfied: bool = False
    over: bool = False  # at the last progress(): costs depicting progress exceed the estimate
    method: Method = field(init=False)  # the spec's, held here: read in every period
    shares_price: bool = field(init=False)  # takes a share of the fixed price (all but T&M)

    def __post_init__(self) -> None:
        self.method = self.spec.method
        self.shares_price = self.method is not Method.TIME_AND_MATERIALS

    def progress(self, through_idx: int, places: int | None) -> Decimal:
        """Measure of progress at the end of period ``through_idx`` (-1: before the first)."""
        self.over = False
        if self.method is Method.POINT_IN_TIME:
            return ONE if self.satisfied else ZERO
        if self.method is Method.STRAIGHT_LINE:
            periods = self.end_idx - self.start_idx + 1
            elapsed = min(max(through_idx - self.start_idx + 1, 0), periods)
            return Decimal(elapsed) / Decimal(periods)
        if self.method is Method.PERCENT_COMPLETE:
            return round_progress(self._cost_progress(), places)
        return ONE

    def _cost_progress(self) -> Decimal:
        done = self.cost - self.excluded - self.materials
        if self.estimate is None:
            if done != 0:
                raise RevenueInputError(
                    self.estimate_field, "costs were incurred before any estimated_total_cost"
                )
            return ZERO
        expected = self.estimate - self.materials
        if expected <= 0:
            raise RevenueInputError(
                self.estimate_field, "estimated_total_cost must exceed uninstalled materials"
            )
        if done < 0:
            raise RevenueInputError(
                self.estimate_field, "excluded costs and materials exceed costs incurred"
            )
        self.over = done > expected  # what over_estimate() says, without computing it again
        return min(done / expected, ONE)

    def over_estimate(self) -> bool:
        """Costs that depict progress already exceed the estimate (progress capped at 1)."""
        if self.method is not Method.PERCENT_COMPLETE or self.estimate is None:
            return False
        return self.cost - self.excluded - self.materials > self.estimate - self.materials

    def target(self, progress: Decimal) -> Decimal:
        """Cumulative revenue allowed at ``progress`` (unrounded, capped at the allocation)."""
        if self.method is Method.TIME_AND_MATERIALS:
            return self.hours * (self.spec.rate or ZERO)
        if progress >= ONE or self.base_progress >= ONE:
            return self.allocated
        base = self.base_revenue - self.base_materials
        rest = self.allocated - self.materials - base
        value = (
            self.materials
            + base
            + rest * (progress - self.base_progress) / (ONE - self.base_progress)
        )
        return min(value, self.allocated)

    def reset_base(self, progress: Decimal) -> None:
        """Prospective modification: what is recognised stays; the rest follows new progress."""
        self.base_revenue = self.recognized
        self.base_progress = progress
        self.base_materials = self.materials
