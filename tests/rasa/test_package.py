"""The [rasa] extra fits a Rasa 3.6 project's Python 3.10 environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from handoff_connector.rasa.resources import domain_dir, resource, rules_and_nlu_dir

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"


def test_the_rasa_extra_installs_into_this_rasa_environment_without_changing_it() -> None:
    # Resolved against the installed Rasa 3.6: nothing to add, upgrade or remove
    # besides the plugin itself.
    result = subprocess.run(
        [str(UV), "pip", "install", "--dry-run", "--python", sys.executable, f"{ROOT}[rasa]"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    changes = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith(("+ ", "- "))]
    assert all("rasa-handoff" in line for line in changes), changes


def test_the_shipped_resources_are_in_the_package() -> None:
    assert (domain_dir() / "handoff.yml").is_file()
    assert {p.name for p in rules_and_nlu_dir().glob("*.yml")} == {"handoff_rules.yml", "handoff_nlu.yml"}
    for name in ("connector.yml", "handoff.yml", "extra/nlu_yes_no.yml"):
        assert resource(name).is_file(), name


def test_the_command_is_there() -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "rasa-handoff"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "init" in result.stdout
