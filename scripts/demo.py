"""`make demo`: starts Rasa, the action server and the connector; Ctrl-C stops all."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import ROOT, Stack  # noqa: E402

GUIDE = """
All three are up:
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

Logs: {logs}
Press Ctrl-C to stop everything.
"""


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C (and a plain kill) stop all three, even during start-up.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    stack = Stack(workdir=ROOT / ".demo")
    stack.database = ROOT / "handoff.db"
    try:
        stack.start()
        print("starting Rasa, the action server and the connector (Rasa takes ~30 s)...", flush=True)
        stack.wait_healthy()
        print(GUIDE.format(rasa=stack.rasa_url, token=stack.rasa_token, actions=stack.ports.actions,
                           connector=stack.connector_url, logs=stack.workdir), flush=True)
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
