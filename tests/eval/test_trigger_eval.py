"""The triggers on held-out input (what `make eval` prints), with floors.

A stack of its own: the evaluation opens hundreds of conversations, and the
shared end-to-end stack's outbox should not have to deliver their endings.
"""

from __future__ import annotations

from typing import Iterator

import eval_triggers
import pytest

from stack import Ports, Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def eval_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(workdir=tmp_path_factory.mktemp("eval-stack"), ports=Ports.free()).running() as stack:
        yield stack


def test_triggers_hold_on_held_out_input(eval_stack: Stack) -> None:
    results = eval_triggers.evaluate(eval_stack)
    report = "\n\n".join(eval_triggers.report(r) for r in results)
    print(report)
    assert not eval_triggers.below_floors(results[-1]), report
