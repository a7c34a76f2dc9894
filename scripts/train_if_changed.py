"""Trains the Rasa model unless its inputs are unchanged since the last training.

The fingerprint is a hash of everything training reads: domain, config, data
and the custom NLU component and policies. The model is models/handoff.tar.gz.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "handoff.tar.gz"
FINGERPRINT = ROOT / "models" / "fingerprint.txt"
INPUTS = ["domain.yml", "config.yml", "data", "requirements/rasa.txt",
          "handoff_connector/rasa/resources",
          "handoff_connector/rasa/nlu.py", "handoff_connector/rasa/policy.py",
          "handoff_connector/rasa/frustration.py", "handoff_connector/rasa/cant_help.py",
          "handoff_connector/rasa/importer.py"]


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = ROOT / name
        if not path.exists():
            continue
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def main() -> int:
    wanted = fingerprint()
    if MODEL.exists() and FINGERPRINT.exists() and FINGERPRINT.read_text().strip() == wanted:
        print(f"model up to date: {MODEL.relative_to(ROOT)} (no retraining)")
        return 0
    print("training the model (inputs changed or no model yet)...", flush=True)
    started = time.monotonic()
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [str(rasa), "train", "--fixed-model-name", "handoff", "--out", "models"],
        cwd=ROOT,
    )
    if result.returncode != 0:
        print("error: rasa train failed; see its output above.", file=sys.stderr)
        return result.returncode
    FINGERPRINT.write_text(wanted + "\n")
    print(f"model trained in {time.monotonic() - started:.0f} s: {MODEL.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
