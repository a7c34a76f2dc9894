"""``rasa-handoff`` (or ``python -m handoff_connector``): the designer's commands.

    init [PROJECT_DIR] [--dry-run]   add the handoff to an existing Rasa 3.6 bot

The connector has its own command, ``handoff-connector``.
"""

from __future__ import annotations

import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args else 2
    if args[0] != "init":
        print(f"error: unknown command {args[0]!r}; try `rasa-handoff init --help`.", file=sys.stderr)
        return 2
    from handoff_connector.rasa.init import main as init_main  # needs the [rasa] extra

    return init_main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
