"""The triggers on held-out input (what `make eval` prints), with floors.

A stack of its own: the evaluation opens hundreds of conversations, and the
shared end-to-end stack's outbox should not have to deliver their endings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import eval_triggers
import pytest

from stack import Ports, Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def eval_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(workdir=tmp_path_factory.mktemp("eval-stack"), ports=Ports.free())
    stack.start()
    try:
        stack.wait_healthy(timeout=300)
        yield stack
    finally:
        stack.stop()


@pytest.mark.parametrize("path", eval_triggers.EVAL_SETS, ids=lambda p: p.stem)
def test_triggers_hold_on_held_out_input(eval_stack: Stack, path: Path) -> None:
    result = eval_triggers.evaluate(eval_stack, path)
    print(eval_triggers.report(result))
    figures = result["figures"]
    below = {k: round(figures[k], 3) for k, floor in eval_triggers.FLOORS.items() if figures[k] < floor}
    assert not below, eval_triggers.report(result)
