"""`make demo`: starts Rasa, the action server and the connector; Ctrl-C stops all.

A new demo database starts with two weeks of sample history (``seed-history``,
written while Rasa starts), so the insights pages have figures at once;
``--no-sample-history`` (``make demo DEMO_ARGS=--no-sample-history``) starts
without it. A database that exists is left as it is.

`make demo-scale` (``--scale``) starts the same system as it runs for
availability: two Rasa servers, the action server and two connectors, sharing
PostgreSQL (databases ``handoff_demo``, ``rasa_trackers_demo`` and
``rasa_events_demo``, Rasa's SQL event broker; kept between runs) and Redis.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from postgres import ensure_database  # noqa: E402

from stack import ROOT, Ports, Scale, Stack  # noqa: E402

GUIDE = """
Everything is up:
  Rasa server      {rasa}   (HTTP API, token: {token})
  action server    http://127.0.0.1:{actions}
  connector        {connector}   (OpenAPI: {connector}/api/v1/openapi.json)

1. Be the agent first: open {connector}/desk and sign in as
   sarah / demo-sarah (housing specialist). Until someone is signed in, the
   bot tells users honestly that nobody is free. miguel / demo-miguel and
   dana / demo-dana (supervisor) work too, e.g. in a private window to try
   a transfer.
2. Be the user: open {connector}/chat in another window; try "I got an
   eviction notice", then "can I talk to a person".
3. Back at the desk: the conversation pops up in Waiting. Claim it, answer
   it (type / for saved replies), add a note, transfer it, close it: the
   bot comes back with a survey.
4. The insights: {connector}/desk/insights, signed in as dana; the team's
   accounts and queues: {connector}/desk/admin.
5. Follow-ups: in a conversation, "Follow-up" sends the user a note, a due time
   and a link back to you, in the chat and by email; "Email transcript" mails
   the conversation. The demo's mail server keeps what is sent in {mail}.
6. Urgent first: as a user, say "can I talk to a person", then while you wait
   "my power will be shut off today": the conversation goes to the top of
   Waiting, flagged urgent. Signed in as dana, "Assign" gives a waiting conversation
   to an agent; an agent's "Ask for help" reaches dana at once.
{history}
Logs: {logs}
Press Ctrl-C to stop everything.
"""

SCALED = """
Scaled out: two of Rasa and of the connector, on PostgreSQL and Redis.
  Rasa server A    {rasa}
  Rasa server B    {rasa_2}
  connector A      {connector}   (desk: {connector}/desk)
  connector B      {connector_2}   (desk: {connector_2}/desk)
  PostgreSQL       {handoff_db} (connectors), database {tracker_db} (Rasa trackers)
  Redis            {redis} (Rasa's lock store, the web chat between Rasa servers)

Connector A's chat page talks to Rasa A, connector B's to Rasa B. Try it across
instances: sign in at {connector_2}/desk, chat at {connector}/chat, and watch the
conversation arrive and the replies come back.
"""


HISTORY = """   Two weeks of sample history are in it ({first} to {last}): {conversations} bot
   conversations, {handoffs} of them handed to a person. What a designer learns
   from it (docs/designer-insights.md, "What the demo's history shows"):
   - {after_utility} of the {frustration} frustration escalations came right after utter_utility_help;
   - can't-help escalations came mostly from housing follow-up questions, and
     fell from {cant_help_before} (model v1, {first} to {before}) to {cant_help_after} after model v2
     was deployed on {deployed}: compare the two weeks in #bot.
"""
NO_HISTORY = "   {why}\n"


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _scaled_stack() -> Stack:
    scale = Scale(handoff_database=ensure_database("handoff_demo"), tracker_database="rasa_trackers_demo",
                  redis_prefix="handoff-demo", events_database="rasa_events_demo")
    ensure_database(scale.tracker_database)
    ensure_database("rasa_events_demo")
    return Stack(workdir=ROOT / ".demo-scale", ports=Ports(), scale=scale)


def _sample_history(stack: Stack, wanted: bool) -> str:
    """Seeds a new database (while Rasa starts); says what the insights pages show."""
    if not wanted:
        return NO_HISTORY.format(why="Started without sample history (--no-sample-history).")
    if stack.scale is None and stack.database is not None and stack.database.exists():
        return NO_HISTORY.format(why=f"{stack.database.name} existed: its history is the one shown "
                                     f"(delete it for a new one with two weeks of sample history).")
    print("writing two weeks of sample history into the new database...", flush=True)
    try:
        made = stack.seed_history()
    except RuntimeError as error:
        return NO_HISTORY.format(why=f"No sample history: {error}")
    if not made.get("seeded"):
        return NO_HISTORY.format(why=str(made.get("status")))
    print(f"sample history written in {made['seconds']} s.", flush=True)
    story = made["story"]
    assert isinstance(story, dict)
    before = time.strftime("%Y-%m-%d", time.gmtime(float(str(made["from_ts"])) + 6 * 86400))
    return HISTORY.format(conversations=made["conversations"], handoffs=made["handoffs"], first=made["from"],
                          last=made["to"], deployed=made["deployed"], before=before,
                          after_utility=story["frustration_after_utter_utility_help"], **story)


def _start(stack: Stack, wanted: bool) -> str:
    stack.check_ports()
    if stack.scale is None:
        # The connector starts on the seeded database; Rasa and the actions start meanwhile.
        stack.start(only=["rasa", "actions", "smtp"])
        print("starting Rasa, the action server and the connector (Rasa takes ~30 s)...", flush=True)
        history = _sample_history(stack, wanted)
        stack.start(only=["connector"])
        stack.wait_healthy()
        return history
    history = _sample_history(stack, wanted)
    # The second Rasa server starts once the first has made the tracker tables.
    first = ["rasa", "actions", "smtp", "connector", "connector-2"]
    stack.start(only=first)
    print("starting two Rasa servers, the action server and two connectors (~1 min)...", flush=True)
    stack.wait_healthy(only=first)
    stack.start(only=["rasa-2"])
    stack.wait_healthy(only=["rasa-2"])
    return history


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="two Rasa servers and two connectors")
    parser.add_argument("--no-sample-history", dest="history", action="store_false",
                        help="a new database starts empty (default: two weeks of sample history)")
    args = parser.parse_args()
    # Ctrl-C (and a plain kill) stop them all, even during start-up.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        if args.scale:
            stack = _scaled_stack()
        else:
            stack = Stack(workdir=ROOT / ".demo")
            stack.database = ROOT / "handoff.db"
    except RuntimeError as error:
        print(f"error: {error} (is PostgreSQL running on 127.0.0.1:5432?)", file=sys.stderr)
        return 1
    try:
        history = _start(stack, args.history)
        print(GUIDE.format(rasa=stack.rasa_url, token=stack.rasa_token, actions=stack.ports.actions,
                           connector=stack.connector_url, logs=stack.workdir, history=history,
                           mail=stack.mail_folder), flush=True)
        if stack.scale is not None:
            print(SCALED.format(rasa=stack.rasa_url, rasa_2=stack.url("rasa_2"), connector=stack.connector_url,
                                connector_2=stack.url("connector_2"), handoff_db=stack.scale.handoff_database,
                                tracker_db=stack.scale.tracker_database, redis=stack.scale.redis_url),
                  flush=True)
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(1)
        dead = [n for n, p in stack.processes.items() if p.poll() is not None]
        print(f"error: {', '.join(dead)} stopped; see {stack.workdir}", file=sys.stderr)
        return 1
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    finally:
        stack.stop()
        print("stopped.")

if __name__ == "__main__":
    sys.exit(main())
