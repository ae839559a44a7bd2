"""The sandboxes' document store: nested transactions join the outermost one."""

from __future__ import annotations

import pytest

from pshub.sandboxes.base import SandboxState


def test_an_inner_block_does_not_commit_the_outer_transaction() -> None:
    state = SandboxState()
    with pytest.raises(RuntimeError), state.transaction():
        state.put("c", "1", {"a": 1})
        with state.transaction():
            state.put("c", "2", {"a": 2})
        raise RuntimeError("outer fails after the inner block")
    assert state.all("c") == []
    with state.transaction():
        state.put("c", "3", {"a": 3})
        with state.transaction():
            state.put("c", "4", {"a": 4})
    assert [d["a"] for d in state.all("c")] == [3, 4]
