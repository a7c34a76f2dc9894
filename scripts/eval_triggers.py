"""`make eval`: how well the handoff triggers hold on real input.

Sends every item of the held-out set (tests/eval/triggers.yml, never trained
on) to the real assistant (Rasa server, action server, connector) on Rasa's
REST channel, each in a fresh conversation, and reads from the tracker what
the bot did: offered a person (and why), or escalated (and why). Prints, per
trigger, precision and recall, and the rate of ordinary messages and
conversations that got neither.
"""

from __future__ import annotations

import json
import sys
import tempfile
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Set

import requests
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import ROOT, Ports, Stack  # noqa: E402

# Held-out sets, each written separately from the training data and from the
# others. The misses on the first two were read while tuning the triggers; the
# third ("untouched") was written afterwards and never read.
EVAL_SETS = [ROOT / "tests" / "eval" / name
             for name in ("triggers.yml", "triggers_fresh.yml", "triggers_untouched.yml")]
TRIGGERS = ("explicit", "frustration", "cant_help")
# The floors the trigger test asserts on all sets together (tests/eval/test_trigger_eval.py).
# The same training inputs give a model whose figures differ by a few points from one
# CPU to another (TensorFlow's kernels; can't help: 0.968 on the machine the README's
# first table came from, 0.936 on today's CI machines), so the floors sit below both:
# a broken trigger falls far below them.
FLOORS = {"explicit.recall": 0.95, "frustration.recall": 0.90, "cant_help.recall": 0.92,
          "ordinary.no_offer_rate": 0.97}


@dataclass
class Outcome:
    category: str
    turns: List[str]
    found: Set[str] = field(default_factory=set)  # e.g. {"offer:cant_help", "escalate:explicit"}

    def triggers(self) -> Set[str]:
        return {f.split(":", 1)[1] for f in self.found}


def items(path: Path) -> List[Outcome]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: List[Outcome] = []
    for category in ("explicit", "frustration", "cant_help", "ordinary", "conversations"):
        for item in data[category]:
            out.append(Outcome(category, [item] if isinstance(item, str) else list(item)))
    return out


def what_happened(events: List[Dict[str, Any]]) -> Set[str]:
    """Offers and escalations in a tracker's events, each with its trigger."""
    found: Set[str] = set()
    offered = None  # the handoff_offer slot as it stands
    intent = None
    for index, event in enumerate(events):
        kind, name = event.get("event"), event.get("name")
        if kind == "slot" and name == "handoff_offer":
            offered = event.get("value")
        elif kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        elif kind == "action" and name == "action_handoff_offer":
            # CantHelpPolicy sets the slot before the action; the action sets it after.
            after = next((e.get("value") for e in events[index + 1:index + 4]
                          if e.get("event") == "slot" and e.get("name") == "handoff_offer"), None)
            found.add(f"offer:{after or offered or 'frustration'}")
        elif kind == "action" and name == "action_handoff_request":
            if intent in ("human_handoff", "request_callback"):
                found.add("escalate:explicit")
            elif not (intent == "affirm" and offered):  # else: an accepted offer, counted
                found.add("escalate:frustration")
    return found


def run_one(stack: Stack, outcome: Outcome) -> Outcome:
    sender = f"eval-{uuid.uuid4().hex[:10]}"
    with requests.Session() as session:
        for text in outcome.turns:
            response = session.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                                    json={"sender": sender, "message": text}, timeout=60)
            response.raise_for_status()
        tracker = session.get(f"{stack.rasa_url}/conversations/{sender}/tracker",
                              params={"token": stack.rasa_token}, timeout=60).json()
    outcome.found = what_happened(tracker["events"])
    return outcome


def score(outcomes: List[Outcome]) -> Dict[str, float]:
    figures: Dict[str, float] = {}
    for trigger in TRIGGERS:
        mine = [o for o in outcomes if o.category == trigger]
        fired = [o for o in outcomes if trigger in o.triggers()]
        figures[f"{trigger}.recall"] = sum(trigger in o.triggers() for o in mine) / len(mine)
        figures[f"{trigger}.precision"] = (
            sum(o.category == trigger for o in fired) / len(fired) if fired else 1.0)
    ordinary = [o for o in outcomes if o.category in ("ordinary", "conversations")]
    figures["ordinary.no_offer_rate"] = sum(not o.found for o in ordinary) / len(ordinary)
    return figures


def run_set(stack: Stack, path: Path) -> List[Outcome]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda o: run_one(stack, o), items(path)))


def summarise(name: str, outcomes: List[Outcome]) -> Dict[str, Any]:
    misses = [{"category": o.category, "turns": o.turns, "found": sorted(o.found)} for o in outcomes
              if (o.category in TRIGGERS and o.category not in o.triggers())
              or (o.category in ("ordinary", "conversations") and o.found)]
    counts = Counter(o.category for o in outcomes)
    return {"set": name, "figures": score(outcomes), "counts": dict(counts), "misses": misses}


def evaluate(stack: Stack) -> List[Dict[str, Any]]:
    """Each set's figures, then all sets together (what the floors apply to)."""
    runs = {str(path.relative_to(ROOT)): run_set(stack, path) for path in EVAL_SETS}
    results = [summarise(name, outcomes) for name, outcomes in runs.items()]
    everything = [o for outcomes in runs.values() for o in outcomes]
    return results + [summarise("all sets together", everything)]


def report(result: Dict[str, Any]) -> str:
    f, n = result["figures"], result["counts"]
    lines = [f"{result['set']} "
             f"({', '.join(f'{k} {v}' for k, v in n.items())})"]
    for trigger in TRIGGERS:
        lines.append(f"{trigger:12s} precision {f[trigger + '.precision']:.3f}  "
                     f"recall {f[trigger + '.recall']:.3f}")
    lines.append(f"ordinary     no offer or escalation on {f['ordinary.no_offer_rate']:.3f} "
                 f"of messages and conversations")
    if result["set"] != "all sets together":
        for miss in result["misses"]:
            lines.append(f"  miss [{miss['category']}] {miss['turns']} -> {miss['found'] or 'nothing'}")
    return "\n".join(lines)


def below_floors(result: Dict[str, Any]) -> Dict[str, float]:
    return {k: round(result["figures"][k], 3) for k, floor in FLOORS.items() if result["figures"][k] < floor}


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="handoff-eval-"))
    stack = Stack(workdir=workdir, ports=Ports.free())
    print("starting Rasa, the action server and the connector...", flush=True)
    with stack.running():
        results = evaluate(stack)
    for result in results:
        print(report(result) + "\n")
    print("floors (all sets together): " + ", ".join(f"{k} >= {v}" for k, v in FLOORS.items()))
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / "trigger-eval.json").write_text(json.dumps(results, indent=1))
    below = below_floors(results[-1])
    if below:
        print(f"below the floor: {below}", file=sys.stderr)
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
