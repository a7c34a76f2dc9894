"""`rasa-handoff init` on copies of Rasa's own starter project (what `rasa init` writes)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import rasa.cli.scaffold
import yaml

from handoff_connector.rasa import init
from handoff_connector.rasa.init import InitError, plan

ROOT = Path(__file__).resolve().parents[2]
STARTER = Path(rasa.cli.scaffold.__file__).parent / "initial_project"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "bot"
    shutil.copytree(STARTER, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def snapshot(root: Path) -> Dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "handoff_connector", "init", *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def is_subsequence(lines: List[str], of: List[str]) -> bool:
    it = iter(of)
    return all(line in it for line in lines)


def test_init_adds_the_handoff_and_keeps_what_the_project_had(project: Path) -> None:
    before = snapshot(project)
    result = run(str(project))
    assert result.returncode == 0, result.stderr
    after = snapshot(project)
    added = set(after) - set(before)
    assert added == {"data/handoff/rules.yml", "data/handoff/nlu.yml", "actions/handoff.py",
                     "handoff.yml", "connector.yml"}
    # Every line the designer had is still there, in order (Rasa's "No
    # configuration was provided" comment block under an empty list excepted).
    for name in ("domain.yml", "endpoints.yml", "credentials.yml", "config.yml"):
        old = [line for line in before[name].splitlines()
               if not (name == "config.yml" and line.startswith(("# #", "#   ")))]
        assert is_subsequence(old, after[name].splitlines()), name
    domain = yaml.safe_load(after["domain.yml"])
    assert {"human_handoff", "EXTERNAL_handoff_closed", "greet", "affirm"} <= set(domain["intents"])
    assert domain["intents"].count("affirm") == 1  # the bot's own kept, not doubled
    assert {"handoff_id", "survey_rating"} <= set(domain["slots"])
    assert "action_handoff_relay" in domain["actions"] and "utter_handoff_queued" in domain["responses"]
    assert domain["responses"]["utter_greet"] == [{"text": "Hey! How are you?"}]
    config = yaml.safe_load(after["config.yml"])
    names = [p["name"] for p in config["policies"]]
    # Listing any policy drops Rasa's defaults: they are written out too.
    assert names[:3] == ["handoff_connector.rasa.policy.HandoffPolicy",
                         "handoff_connector.rasa.policy.FrustrationPolicy",
                         "handoff_connector.rasa.policy.CantHelpPolicy"]
    assert {"MemoizationPolicy", "RulePolicy", "TEDPolicy"} <= set(names)
    rule_policy = next(p for p in config["policies"] if p["name"] == "RulePolicy")
    assert rule_policy["core_fallback_action_name"] == "action_handle_fallback"
    pipeline = [c["name"] for c in config["pipeline"]]
    assert pipeline[0] == "WhitespaceTokenizer" and "DIETClassifier" in pipeline
    assert pipeline[-2:] == ["handoff_connector.rasa.nlu.GibberishFallback",
                             "handoff_connector.rasa.nlu.FrustrationDetector"]
    endpoints = yaml.safe_load(after["endpoints.yml"])
    assert endpoints["action_endpoint"]["url"] == "http://localhost:5055/webhook"
    # Every conversation to Rasa's SQL event broker, where the connector reads it.
    assert endpoints["event_broker"] == {"type": "SQL", "dialect": "sqlite", "db": "rasa_events.db"}
    credentials = yaml.safe_load(after["credentials.yml"])
    connector = yaml.safe_load(after["connector.yml"])
    settings = yaml.safe_load(after["handoff.yml"])
    # One fresh secret shared by the pieces that must agree, no demo secrets.
    assert settings["bot_secret"] == connector["bot_secret"] and len(connector["bot_secret"]) >= 30
    typing = credentials["handoff_connector.rasa.channel.WebChatInput"]["typing_secret"]
    assert typing == connector["webchat_typing_secret"]
    assert "demo" not in after["connector.yml"] and "@" not in connector["bot_secret"]
    assert connector["bot_events_database"] == endpoints["event_broker"]["db"]
    assert "added   data/handoff/rules.yml" in result.stdout


def test_a_second_run_changes_nothing(project: Path) -> None:
    assert run(str(project)).returncode == 0
    first = snapshot(project)
    again = run(str(project))
    assert again.returncode == 0 and "nothing to change" in again.stdout
    assert snapshot(project) == first


def test_a_second_run_keeps_the_designers_edits(project: Path) -> None:
    assert run(str(project)).returncode == 0
    rules = project / "data" / "handoff" / "rules.yml"
    rules.write_text(rules.read_text().replace("- rule: never mind outside a handoff", "- rule: mine"))
    assert plan(project) == []
    assert "- rule: mine" in rules.read_text()


def test_dry_run_shows_the_diff_and_writes_nothing(project: Path) -> None:
    before = snapshot(project)
    result = run("--dry-run", str(project))
    assert result.returncode == 0, result.stderr
    assert snapshot(project) == before
    assert "+++ b/config.yml" in result.stdout and "+  - name: handoff_connector.rasa.policy.HandoffPolicy" in result.stdout
    assert "+++ b/data/handoff/rules.yml" in result.stdout and "(dry run: nothing written)" in result.stdout


@pytest.mark.parametrize(
    "file, append, says",
    [
        # an intent of the same name with examples of its own
        ("data/nlu.yml", "\n- intent: human_handoff\n  examples: |\n    - get me a human\n",
         "data/nlu.yml: intent `human_handoff` already has examples"),
        # a slot of the same name
        ("domain.yml", "\nslots:\n  handoff_id:\n    type: text\n    mappings:\n    - type: custom\n",
         "domain.yml: slot `handoff_id` is already defined"),
        # the bot's own session start
        ("domain.yml", "\nactions:\n  - action_session_start\n",
         "domain.yml: action `action_session_start` is already defined"),
        # a rule of its own for low NLU confidence
        ("data/rules.yml", "\n- rule: fallback\n  steps:\n  - intent: nlu_fallback\n  - action: utter_greet\n",
         "data/rules.yml: a rule or story already reacts to `nlu_fallback`"),
    ],
)
def test_a_conflict_stops_with_file_and_key_and_changes_nothing(
    project: Path, file: str, append: str, says: str
) -> None:
    with (project / file).open("a") as handle:
        handle.write(append)
    before = snapshot(project)
    result = run(str(project))
    assert result.returncode == 2
    assert says in result.stderr and "nothing was changed" in result.stderr
    assert snapshot(project) == before


@pytest.mark.parametrize(
    "file, text, says",
    [
        ("config.yml", "pipeline: [unclosed\n", "config.yml: not valid YAML"),
        ("config.yml", "policies: 3\n", "config.yml: `policies` must be a list"),
        ("domain.yml", "- just\n- a list\n", "domain.yml: expected a mapping"),
    ],
)
def test_a_file_init_cannot_read_is_named(project: Path, file: str, text: str, says: str) -> None:
    (project / file).write_text(text)
    before = snapshot(project)
    with pytest.raises(InitError, match=says):
        plan(project)
    assert snapshot(project) == before


def test_not_a_rasa_project(tmp_path: Path) -> None:
    result = run(str(tmp_path))
    assert result.returncode == 2 and "config.yml not found" in result.stderr


def test_a_failed_write_leaves_no_half_edited_project(project: Path) -> None:
    (project / "data" / "handoff").write_text("in the way")  # a file where a folder must go
    before = snapshot(project)
    changes = plan(project)
    with pytest.raises(InitError, match="nothing was changed"):
        init.apply(changes)
    assert snapshot(project) == before


def test_a_domain_directory_gets_its_own_handoff_file(project: Path) -> None:
    (project / "domain").mkdir()
    shutil.move(str(project / "domain.yml"), project / "domain" / "main.yml")
    assert run(str(project)).returncode == 0
    handoff = yaml.safe_load((project / "domain" / "handoff.yml").read_text())
    assert "human_handoff" in handoff["intents"]
    assert "affirm" not in handoff["intents"]  # the bot has its own: not listed twice
    assert (project / "domain" / "main.yml").read_text() == (STARTER / "domain.yml").read_text()


def test_a_bot_without_yes_and_no_gets_their_examples(project: Path) -> None:
    nlu = yaml.safe_load((project / "data" / "nlu.yml").read_text())
    nlu["nlu"] = [b for b in nlu["nlu"] if b["intent"] not in ("affirm", "deny")]
    (project / "data" / "nlu.yml").write_text(yaml.safe_dump(nlu, sort_keys=False))
    domain = (project / "domain.yml").read_text().replace("  - affirm\n", "").replace("  - deny\n", "")
    (project / "domain.yml").write_text(domain)
    assert run(str(project)).returncode == 0
    added = yaml.safe_load((project / "data" / "handoff" / "yes_no.yml").read_text())
    assert [b["intent"] for b in added["nlu"]] == ["affirm", "deny"]


def test_an_event_broker_the_bot_already_has_is_kept(project: Path) -> None:
    endpoints = project / "endpoints.yml"
    endpoints.write_text(endpoints.read_text() + "\nevent_broker:\n  type: kafka\n  url: kafka.internal:9092\n")
    assert run(str(project)).returncode == 0
    assert yaml.safe_load(endpoints.read_text())["event_broker"] == {"type": "kafka", "url": "kafka.internal:9092"}
