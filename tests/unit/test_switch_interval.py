"""The interpreter's thread switch interval the hub runs with (decision 0015)."""

from __future__ import annotations


def test_the_hub_sets_the_interpreters_switch_interval_as_configured() -> None:
    """Decision 0015: 1 ms by default, 0 keeps Python's own; out-of-range values refused."""
    import sys

    import pytest
    from pydantic import ValidationError

    from pshub.bootstrap import apply_switch_interval
    from pshub.settings import Settings

    before = sys.getswitchinterval()
    try:
        apply_switch_interval(Settings())
        assert sys.getswitchinterval() == pytest.approx(0.001)
        sys.setswitchinterval(0.005)
        apply_switch_interval(Settings(switch_interval_ms=0))
        assert sys.getswitchinterval() == pytest.approx(0.005)
        with pytest.raises(ValidationError, match="switch_interval_ms"):
            Settings(switch_interval_ms=-1)
    finally:
        sys.setswitchinterval(before)
