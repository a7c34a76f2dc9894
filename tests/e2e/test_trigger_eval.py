"""The triggers on held-out input (what `make eval` prints), with floors."""

from __future__ import annotations

import eval_triggers
import pytest

from stack import Stack

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("path", eval_triggers.EVAL_SETS, ids=lambda p: p.stem)
def test_triggers_hold_on_held_out_input(stack: Stack, path) -> None:
    result = eval_triggers.evaluate(stack, path)
    print(eval_triggers.report(result))
    figures = result["figures"]
    below = {k: round(figures[k], 3) for k, floor in eval_triggers.FLOORS.items() if figures[k] < floor}
    assert not below, eval_triggers.report(result)
