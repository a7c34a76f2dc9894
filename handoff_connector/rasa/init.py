"""``rasa-handoff init [PROJECT_DIR]``: adds the handoff to an existing Rasa 3.6 bot.

Everything is planned in memory first (``plan``), checked for conflicts, and
only then written (``apply``), so a conflict never leaves a half-edited
project. YAML files are edited round-trip (ruamel.yaml), keeping the
project's comments and ordering. A second run changes nothing.
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from handoff_connector.rasa import merge
from handoff_connector.rasa.merge import InitError
from handoff_connector.rasa.resources import resource

# Intents the handoff uses that many bots already have: theirs are kept.
SHARED_INTENTS = ("affirm", "deny", "skip")
OWN_DATA = Path("data") / "handoff"
ACTIONS_MODULE = '''"""The handoff's actions (offer, escalate, relay, return, survey, callback).

Added by `rasa-handoff init`. The action server registers every Action it
finds in the modules of this package, so this import is all it takes.
"""

from handoff_connector.rasa.actions import *  # noqa: F401,F403
from handoff_connector.rasa.survey import *  # noqa: F401,F403
'''


@dataclass
class Change:
    """One file to write: its text before (None: new) and after, and why."""

    path: Path
    before: Optional[str]
    after: str
    why: str

    def diff(self, root: Path) -> str:
        name = str(self.path.relative_to(root))
        return "".join(difflib.unified_diff(
            (self.before or "").splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=f"a/{name}" if self.before is not None else "/dev/null", tofile=f"b/{name}",
        ))


def load(path: Path) -> Any:
    try:
        return YAML().load(path.read_text(encoding="utf-8"))
    except YAMLError as error:
        raise InitError(f"{path}: not valid YAML ({error}).") from error


def dump(data: Any) -> str:
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # type: ignore[assignment]  # never fold a long text
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _names(items: Optional[Iterable[Any]]) -> List[str]:
    """Names in a domain list, whose entries are names or one-key mappings."""
    names = []
    for item in items or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return names


class Project:
    """An existing Rasa project: where its files are and what they define."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for name in ("config.yml", "data"):
            if not (root / name).exists():
                raise InitError(f"{root / name} not found: is {root} a Rasa project "
                                f"(made with `rasa init`)?")
        self.domain_dir = root / "domain" if (root / "domain").is_dir() else None
        self.domain_file = root / "domain.yml"
        if self.domain_dir is None and not self.domain_file.is_file():
            raise InitError(f"neither {self.domain_file} nor {root / 'domain'}/ found.")
        self.first_run = not (root / OWN_DATA / "rules.yml").exists()

    def domain_files(self) -> List[Path]:
        if self.domain_dir is None:
            return [self.domain_file]
        return sorted(p for p in self.domain_dir.rglob("*.yml") if p.name != "handoff.yml")

    def data_files(self) -> List[Path]:
        own = self.root / OWN_DATA
        return sorted(p for p in (self.root / "data").rglob("*.yml") if own not in p.parents)

    def defined(self) -> Dict[str, Dict[str, Path]]:
        """Every intent, slot, form, action and response the project defines, by file."""
        found: Dict[str, Dict[str, Path]] = {k: {} for k in merge.DOMAIN_KEYS}
        for path in self.domain_files():
            data = load(path) or {}
            if not isinstance(data, dict):
                raise InitError(f"{path}: expected a mapping (a Rasa domain).")
            for key in merge.DOMAIN_KEYS:
                section = data.get(key)
                names = _names(section) if isinstance(section, list) else list(section or {})
                found[key].update({name: path for name in names})
        return found

    def nlu_intents(self) -> Dict[str, Path]:
        """Intents with training examples in the project's own data files."""
        intents: Dict[str, Path] = {}
        for path in self.data_files():
            data = load(path) or {}
            for block in (data.get("nlu") or []) if isinstance(data, dict) else []:
                if isinstance(block, dict) and "intent" in block:
                    intents.setdefault(str(block["intent"]), path)
        return intents

    def rules_on(self, intents: Set[str]) -> Dict[str, Path]:
        """Stories and rules of the project that react to one of these intents."""
        hits: Dict[str, Path] = {}
        for path in self.data_files():
            data = load(path) or {}
            for key in ("rules", "stories"):
                for item in (data.get(key) or []) if isinstance(data, dict) else []:
                    for step in (item.get("steps") or []) if isinstance(item, dict) else []:
                        if isinstance(step, dict) and step.get("intent") in intents:
                            hits.setdefault(str(step["intent"]), path)
        return hits


def _conflicts(project: Project, handoff_domain: Dict[str, Any]) -> List[str]:
    """What the project already defines that the handoff would define differently."""
    problems: List[str] = []
    defined = project.defined()
    for key in merge.DOMAIN_KEYS:
        section = handoff_domain.get(key) or []
        names = _names(section) if isinstance(section, list) else list(section)
        for name in names:
            if name in defined[key] and not (key == "intents" and name in SHARED_INTENTS):
                problems.append(f"{defined[key][name]}: {key[:-1]} `{name}` is already defined; "
                                f"the handoff defines its own. Rename yours or remove it.")
    own_intents = set(_names(handoff_domain["intents"])) - set(SHARED_INTENTS)
    for intent, path in project.nlu_intents().items():
        if intent in own_intents:
            problems.append(f"{path}: intent `{intent}` already has examples; the handoff ships "
                            f"its own. Rename yours or remove them.")
    for intent, path in project.rules_on(own_intents | {"nlu_fallback"}).items():
        problems.append(f"{path}: a rule or story already reacts to `{intent}`; the handoff's rules "
                        f"do (data/handoff/rules.yml). Remove yours, or edit the handoff's after init.")
    return problems


def _domain_change(project: Project, handoff_domain: CommentedMap) -> Optional[Change]:
    """The handoff's domain: its own file in a domain directory, else merged into domain.yml."""
    present = project.defined()
    if project.domain_dir is not None:
        target = project.domain_dir / "handoff.yml"
        if target.exists():
            return None  # kept as the designer left it
        text = resource("domain/handoff.yml").read_text(encoding="utf-8")
        shared = [i for i in SHARED_INTENTS if i in present["intents"]]
        for intent in shared:
            text = text.replace(f"  - {intent}\n", "")
        return Change(target, None, text, "the handoff's domain")
    handoff_text = resource("domain/handoff.yml").read_text(encoding="utf-8")
    return _edit(project.domain_file, "the handoff's intents, slots, forms, actions and responses",
                 lambda text, source: merge.add_domain(text, handoff_text, source))


def _data_changes(project: Project) -> List[Change]:
    changes = []
    own = project.root / OWN_DATA
    for name, source in (("rules.yml", "data/handoff_rules.yml"), ("nlu.yml", "data/handoff_nlu.yml")):
        if not (own / name).exists():
            changes.append(Change(own / name, None, resource(source).read_text(encoding="utf-8"),
                                  "the handoff's " + ("rules" if name == "rules.yml" else "NLU examples")))
    present = set(project.defined()["intents"]) | set(project.nlu_intents())
    missing = [i for i in ("affirm", "deny") if i not in present]
    if missing and not (own / "yes_no.yml").exists():
        shared = load(resource("extra/nlu_yes_no.yml"))
        shared["nlu"] = CommentedSeq([b for b in shared["nlu"] if b["intent"] in missing])
        changes.append(Change(own / "yes_no.yml", None, dump(shared), "examples of " + ", ".join(missing)))
    return changes


def _edit(path: Path, why: str, edit: Callable[[str, str], str]) -> Optional[Change]:
    """Applies a text edit to a file (a missing file starts empty); None if nothing changed."""
    before = path.read_text(encoding="utf-8") if path.exists() else None
    after = edit(before or "", str(path))
    if after == (before or ""):
        return None
    return Change(path, before, after, why)


def _actions_changes(project: Project) -> List[Change]:
    package = project.root / "actions"
    if (project.root / "actions.py").exists() and not package.exists():
        raise InitError(f"{project.root / 'actions.py'}: your actions are one module; add "
                        f"`from handoff_connector.rasa.actions import *` and "
                        f"`from handoff_connector.rasa.survey import *` to it yourself, or make "
                        f"`actions` a package.")
    changes = []
    if not (package / "__init__.py").exists():
        changes.append(Change(package / "__init__.py", None, "", "the action server's package"))
    if not (package / "handoff.py").exists():
        changes.append(Change(package / "handoff.py", None, ACTIONS_MODULE, "the handoff's actions"))
    return changes


def _settings_changes(project: Project, connector_url: str, typing: str) -> List[Change]:
    """handoff.yml (the actions' settings) and connector.yml, sharing one new bot secret."""
    changes = []
    bot_secret, rasa_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    if not (project.root / "handoff.yml").exists():
        text = resource("handoff.yml").read_text(encoding="utf-8")
        text = text.replace("@CONNECTOR_URL@", connector_url).replace("@BOT_SECRET@", bot_secret)
        changes.append(Change(project.root / "handoff.yml", None, text, "settings of the handoff actions"))
    if not (project.root / "connector.yml").exists():
        text = resource("connector.yml").read_text(encoding="utf-8")
        for placeholder, value in (("@BOT_SECRET@", bot_secret), ("@RASA_TOKEN@", rasa_token),
                                   ("@TYPING_SECRET@", typing)):
            text = text.replace(placeholder, value)
        changes.append(Change(project.root / "connector.yml", None, text, "the connector's config"))
    return changes


def _typing_secret(project: Project) -> str:
    """The web chat's typing secret already in credentials.yml, or a new one."""
    path = project.root / "credentials.yml"
    data = load(path) if path.exists() else None
    channel = data.get(merge.WEBCHAT) if isinstance(data, dict) else None
    if isinstance(channel, dict) and channel.get("typing_secret"):
        return str(channel["typing_secret"])
    return secrets.token_urlsafe(24)


def plan(root: Path, connector_url: str = "http://localhost:5034") -> List[Change]:
    """Every change ``init`` would make to the project at ``root``; raises InitError."""
    project = Project(root.resolve())
    handoff_domain = load(resource("domain/handoff.yml"))
    if project.first_run:
        problems = _conflicts(project, handoff_domain)
        if problems:
            raise InitError("the project already defines parts of the handoff; nothing was "
                            "changed:\n  " + "\n  ".join(problems))
    typing = _typing_secret(project)
    changes: List[Optional[Change]] = [_domain_change(project, handoff_domain)]
    changes += _data_changes(project)
    changes.append(_edit(project.root / "config.yml", "the handoff's NLU component and policies",
                         merge.add_config))
    changes.append(_edit(project.root / "endpoints.yml", "where Rasa finds the action server; the event broker",
                         merge.add_endpoints))
    changes.append(_edit(project.root / "credentials.yml", "the web chat channel",
                         lambda text, source: merge.add_credentials(text, source, typing)))
    changes += _actions_changes(project)
    changes += _settings_changes(project, connector_url, typing)
    return [c for c in changes if c is not None]


def apply(changes: List[Change]) -> None:
    """Writes every change, or none: each file goes to a temporary name first."""
    staged: List[Path] = []
    try:
        for change in changes:
            change.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = change.path.with_name(change.path.name + ".handoff-init")
            temporary.write_text(change.after, encoding="utf-8")
            staged.append(temporary)
    except OSError as error:
        for temporary in staged:
            temporary.unlink(missing_ok=True)
        raise InitError(f"could not write {error.filename}: {error.strerror}; nothing was changed.") from error
    for change, temporary in zip(changes, staged, strict=True):
        os.replace(temporary, change.path)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="rasa-handoff init", description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", default=".", help="the Rasa project (default: here)")
    parser.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    parser.add_argument("--connector-url", default="http://localhost:5034",
                        help="where the action server reaches the connector")
    args = parser.parse_args(argv)
    root = Path(args.project)
    try:
        changes = plan(root, args.connector_url)
    except InitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    root = root.resolve()
    if not changes:
        print("The handoff is already set up here; nothing to change.")
        return 0
    if args.dry_run:
        for change in changes:
            print(change.diff(root), end="")
        print(f"\n{len(changes)} file(s) would change (dry run: nothing written).")
        return 0
    apply(changes)
    for change in changes:
        verb = "added  " if change.before is None else "changed"
        print(f"{verb} {change.path.relative_to(root)}: {change.why}")
    print(NEXT_STEPS)
    return 0


NEXT_STEPS = """
Next:
  rasa train
  rasa run actions                                   # the action server
  rasa run --enable-api --auth-token <rasa_token in connector.yml>
  handoff-connector serve --config connector.yml     # in the connector's environment
  handoff-connector agents add ID "Name" --role supervisor --queue general   # then sign in at /desk
See docs/designers-guide.md for what changed and how to tune each trigger."""
