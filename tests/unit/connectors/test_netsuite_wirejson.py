"""NetSuite bodies carry exact amounts: Decimal out as a number literal, back in as Decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pshub.connectors.netsuite.wirejson import dumps, loads


def test_decimals_are_written_as_the_exact_literal_and_read_back_exactly() -> None:
    body = {"rate": Decimal("175.00"), "hours": Decimal("7.5"), "tiny": Decimal("1E-7"), "n": 3}
    text = dumps({"items": [body], "memo": "Zoë's time"})
    assert text.startswith(b'{"items":[{"rate":175.00,"hours":7.5,"tiny":1E-7,"n":3}]')
    assert loads(text) == {"items": [body], "memo": "Zoë's time"}
    assert isinstance(loads(text)["items"][0]["rate"], Decimal)


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), object()])
def test_what_json_cannot_carry_exactly_is_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        dumps({"amount": bad})
