"""What both benchmarks share: percentiles, and the report (one line a figure, and JSON).

Kept free of imports from either side: ``bench.py`` runs in the connector's environment,
``bench_rasa.py`` in Rasa's.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, List, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The value ``q`` (0-1) of the way up ``values`` (nearest rank, no interpolation)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(figures: List[Any], path: Path, short: bool, started: float, print_lines: bool = False) -> None:
    """Writes the figures (dataclasses with a ``line()``) to ``path`` as JSON, and says where."""
    if print_lines:
        for figure in figures:
            print(figure.line())
    seconds = time.perf_counter() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"short": short, "seconds": round(seconds, 1),
                                "figures": [asdict(f) for f in figures]}, indent=2))
    print(f"{len(figures)} figures in {seconds:.0f} s; written to {path}")
