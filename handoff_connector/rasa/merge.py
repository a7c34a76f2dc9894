"""The edits ``init`` makes inside a project's YAML files.

The project's text is kept as it is: ruamel.yaml reads the structure (and the
line of every key), and new lines are inserted where they belong, indented
like their neighbours. Nothing the designer wrote is re-formatted, and every
comment stays. Each ``add_*`` function adds only what is missing and returns
the new text (the same text when nothing was missing), so a second run is a
no-op.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import Any, Dict, List, cast

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

DOMAIN_KEYS = ("intents", "slots", "forms", "actions", "responses")
WEBCHAT = "handoff_connector.rasa.channel.WebChatInput"
DETECTOR = "handoff_connector.rasa.nlu.FrustrationDetector"
GIBBERISH = "handoff_connector.rasa.nlu.GibberishFallback"
FALLBACK_ACTION = "action_handle_fallback"
ACTION_ENDPOINT = "http://localhost:5055/webhook"
# What Rasa writes under an empty `pipeline:` / `policies:` after training.
AUTOCONFIG_MARK = "# # No configuration for"


class InitError(Exception):
    """The project cannot take the handoff as it is; the message says where and why."""


def handoff_policies() -> List[CommentedMap]:
    cant_help = CommentedMap(name="handoff_connector.rasa.policy.CantHelpPolicy", priority=7,
                             enabled=True, offer_after=2, intents=_flow(["nlu_fallback", "out_of_scope"]),
                             responses=_flow([]))
    return [
        CommentedMap(name="handoff_connector.rasa.policy.HandoffPolicy", priority=7),
        CommentedMap(name="handoff_connector.rasa.policy.FrustrationPolicy", priority=7,
                     enabled=True, threshold=3, offer_at=2),
        cant_help,
    ]


def _flow(items: List[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def render(data: Any, indent: int) -> List[str]:
    """YAML lines for ``data`` (a list's items or a mapping's entries), shifted right."""
    yaml = YAML()
    yaml.width = 4096  # type: ignore[assignment]  # never fold a long text
    yaml.indent(mapping=2, sequence=2, offset=0)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return [(" " * indent + line if line.strip() else line) for line in buffer.getvalue().splitlines(True)]


class YamlText:
    """A YAML file as lines, with its structure, for inserting lines in place."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        if text and not text.endswith("\n"):
            text += "\n"
        self.lines = text.splitlines(True)
        try:
            data = YAML().load(text)
        except YAMLError as error:
            raise InitError(f"{source}: not valid YAML ({error}).") from error
        if data is None:
            data = CommentedMap()
        if not isinstance(data, CommentedMap):
            raise InitError(f"{source}: expected a mapping at the top.")
        self.data = data

    def text(self) -> str:
        return "".join(self.lines)

    def _key_lines(self) -> List[int]:
        return sorted(self.data.lc.key(k)[0] for k in self.data)

    def _section(self, key: str) -> range:
        """Lines after ``key:`` up to the next top-level key."""
        start = self.data.lc.key(key)[0]
        later = [line for line in self._key_lines() if line > start]
        return range(start + 1, later[0] if later else len(self.lines))

    def _content(self, key: str) -> List[int]:
        return [i for i in self._section(key)
                if self.lines[i].strip() and not self.lines[i].lstrip().startswith("#")]

    def child_indent(self, key: str, default: int = 2) -> int:
        content = self._content(key)
        if not content:
            return default
        line = self.lines[content[0]]
        return len(line) - len(line.lstrip())

    def _check_block(self, key: str) -> None:
        value = self.data.get(key)
        if isinstance(value, (CommentedMap, CommentedSeq)) and value.fa.flow_style() and len(value):
            raise InitError(f"{self.source}: `{key}` is written inline ({key}: [...] or {{...}}); "
                            f"write it as a block (one entry a line) and run init again.")

    def append_under(self, key: str, data: Any) -> None:
        """Adds entries at the end of a top-level section (a new section if absent)."""
        if key not in self.data or self.data[key] is None and not self._content(key):
            self._fill_empty(key, data)
            return
        self._check_block(key)
        content = self._content(key)
        where = content[-1] + 1 if content else self.data.lc.key(key)[0] + 1
        self.lines[where:where] = render(data, self.child_indent(key))
        self._reload()

    def prepend_under(self, key: str, data: Any) -> None:
        """Adds entries at the start of a top-level section."""
        self._check_block(key)
        where = self.data.lc.key(key)[0] + 1
        self.lines[where:where] = render(data, self.child_indent(key))
        self._reload()

    def _fill_empty(self, key: str, data: Any) -> None:
        if key not in self.data:
            if self.lines and self.lines[-1].strip():
                self.lines.append("\n")
            self.lines += [f"{key}:\n", *render(data, 2)]
        else:
            # Rasa's "No configuration ... was provided" block stops being true.
            section = [i for i in self._section(key) if self.lines[i].startswith(AUTOCONFIG_MARK)]
            if section:
                end = section[0]
                while end < len(self.lines) and self.lines[end].startswith(("# #", "#   ")):
                    end += 1
                del self.lines[section[0]:end]
            where = self.data.lc.key(key)[0] + 1
            line = self.lines[where - 1]
            if line.rstrip().endswith(("null", "~", "[]", "{}")):
                self.lines[where - 1] = f"{key}:\n"
            self.lines[where:where] = render(data, 2)
        self._reload()

    def insert_into_item(self, key: str, item: CommentedMap, entries: Dict[str, Any]) -> None:
        """Adds keys to one mapping inside a top-level list (e.g. a policy's settings)."""
        line, column = item.lc.key(next(iter(item)))
        last = max(item.lc.key(k)[0] for k in item)
        nested = [i for i in range(last + 1, self._section(key).stop)
                  if self.lines[i].strip() and len(self.lines[i]) - len(self.lines[i].lstrip()) > column]
        where = (nested[-1] if nested and nested[0] == last + 1 else last) + 1
        self.lines[where:where] = render(CommentedMap(entries), column)
        self._reload()

    def replace_value(self, item: CommentedMap, name: str, value: str) -> None:
        line, _ = item.lc.key(name)
        before = self.lines[line]
        head = before[: before.index(name) + len(name)]
        self.lines[line] = f"{head}: {value}\n"
        self._reload()

    def entry_blocks(self, key: str) -> Dict[str, List[str]]:
        """The text of each entry of a section, with the comments just above it."""
        value: Any = self.data.get(key) or []
        if isinstance(value, list):
            seq = cast(CommentedSeq, value)
            starts = [(names([item])[0], seq.lc.item(i)[0]) for i, item in enumerate(seq)]
        else:
            starts = [(name, value.lc.key(name)[0]) for name in value]
        content = self._content(key)
        blocks: Dict[str, List[str]] = {}
        begin = self.data.lc.key(key)[0] + 1
        for index, (name, line) in enumerate(starts):
            following = starts[index + 1][1] if index + 1 < len(starts) else self._section(key).stop
            end = max(i for i in content if line <= i < following) + 1
            blocks[name] = self.lines[begin:end]
            begin = end
        return blocks

    def insert_text(self, key: str, lines: List[str], shift: int) -> None:
        """Adds lines (from another file, moved right by ``shift``) at the end of a section."""
        moved = [(" " * shift + line if shift > 0 else line[min(-shift, len(line) - len(line.lstrip())):])
                 if line.strip() else line for line in lines]
        if key not in self.data:
            if self.lines and self.lines[-1].strip():
                self.lines.append("\n")
            self.lines += [f"{key}:\n", *moved]
        else:
            self._check_block(key)
            content = self._content(key)
            where = content[-1] + 1 if content else self.data.lc.key(key)[0] + 1
            self.lines[where:where] = moved
        self._reload()

    def _reload(self) -> None:
        self.data = YamlText(self.text(), self.source).data


def names(items: Any) -> List[str]:
    """Names in a domain list, whose entries are names or one-key mappings."""
    return [str(next(iter(i))) if isinstance(i, dict) else str(i) for i in items or []]


def add_domain(text: str, handoff_text: str, source: str) -> str:
    """The handoff's intents, slots, forms, actions and responses the domain lacks.

    They are copied as the handoff's domain file writes them, comments included.
    """
    doc, handoff = YamlText(text, source), YamlText(handoff_text, "the handoff's domain")
    for key in DOMAIN_KEYS:
        theirs: Any = doc.data.get(key)
        kind = list if isinstance(handoff.data[key], list) else dict
        if theirs is not None and not isinstance(theirs, kind):
            raise InitError(f"{source}: domain `{key}` must be a {'list' if kind is list else 'mapping'}.")
        have = set(names(theirs) if kind is list else (theirs or {}))
        blocks = handoff.entry_blocks(key)
        missing = [line for name, block in blocks.items() if name not in have for line in block]
        if missing:
            shift = (doc.child_indent(key) if key in doc.data else 2) - handoff.child_indent(key)
            doc.insert_text(key, missing, shift)
    return doc.text()


def _rasa_defaults() -> Dict[str, Any]:
    """Rasa's own default pipeline and policies, used when a project lists none."""
    spec = importlib.util.find_spec("rasa")  # found, not imported: importing rasa is slow
    if spec is None or spec.origin is None:
        raise InitError("rasa is not installed here: run init in the bot's Rasa environment.")
    path = Path(spec.origin).parent / "engine" / "recipes" / "config_files" / "default_config.yml"
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _listed(items: Any, name: str) -> Any:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return None


def add_config(text: str, source: str) -> str:
    """The FrustrationDetector in the pipeline, the handoff policies first in ``policies``.

    A project that lists no pipeline or no policies gets Rasa's defaults
    written out: listing one component or policy makes Rasa drop its defaults.
    """
    doc = YamlText(text, source)
    for key in ("pipeline", "policies"):
        value = doc.data.get(key)
        if value is not None and not isinstance(value, list):
            raise InitError(f"{source}: `{key}` must be a list.")
        if not value:
            doc.append_under(key, _rasa_defaults()[key])
    pipeline = doc.data["pipeline"]
    extra = CommentedSeq()
    if _listed(pipeline, "FallbackClassifier") is None:
        extra.append(CommentedMap(name="FallbackClassifier", threshold=0.3, ambiguity_threshold=0.1))
    for component in (GIBBERISH, DETECTOR):
        if _listed(pipeline, component) is None:
            extra.append(CommentedMap(name=component))
    if extra:
        doc.append_under("pipeline", extra)
    missing = CommentedSeq(p for p in handoff_policies() if _listed(doc.data["policies"], p["name"]) is None)
    if missing:
        doc.prepend_under("policies", missing)
    rule_policy = _listed(doc.data["policies"], "RulePolicy")
    if rule_policy is None:
        doc.append_under("policies", CommentedSeq([CommentedMap(
            name="RulePolicy", core_fallback_action_name=FALLBACK_ACTION, core_fallback_threshold=0.3)]))
    elif rule_policy.get("core_fallback_action_name") == "action_default_fallback":
        doc.replace_value(rule_policy, "core_fallback_action_name", FALLBACK_ACTION)
    elif rule_policy.get("core_fallback_action_name") is None:
        doc.insert_into_item("policies", rule_policy, {"core_fallback_action_name": FALLBACK_ACTION})
    return doc.text()


def add_endpoints(text: str, source: str) -> str:
    """Rasa must reach the action server: ``rasa init`` leaves it commented out. And every
    conversation goes to Rasa's SQL event broker, a SQLite file the connector reads for
    the designer's insights (a broker the project already has is kept)."""
    doc = YamlText(text, source)
    if not doc.data.get("action_endpoint"):
        doc.append_under("action_endpoint", CommentedMap(url=ACTION_ENDPOINT))
    if not doc.data.get("event_broker"):
        doc.append_under("event_broker", CommentedMap(type="SQL", dialect="sqlite", db=EVENTS_DB))
    return doc.text()


EVENTS_DB = "rasa_events.db"  # the connector's `bot_events_database` in connector.yml


def add_credentials(text: str, source: str, typing_secret: str) -> str:
    """The web chat channel (its page is served by the connector)."""
    doc = YamlText(text, source)
    if WEBCHAT in doc.data:
        return text
    doc.append_under(WEBCHAT, CommentedMap(typing_secret=typing_secret))
    return doc.text()
