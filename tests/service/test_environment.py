"""The connector's own environment: current aiohttp, nothing of Rasa's."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parents[2]
IMPORTS = ("import sys, handoff_connector.service, handoff_connector.service.__main__, "
           "handoff_connector.common.wording, handoff_connector.common.contact; "
           "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")


def _pins(lock: Path) -> Dict[str, str]:
    pins = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def _imported_distributions() -> Dict[str, str]:
    """Distribution -> version for every third-party module the connector imports."""
    result = subprocess.run([sys.executable, "-c", IMPORTS], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, check=True)
    owners = importlib.metadata.packages_distributions()
    found = {}
    for module in result.stdout.split():
        for dist in owners.get(module, []):
            if dist.lower() != "rasa-handoff":
                found[dist.lower().replace("_", "-")] = importlib.metadata.version(dist)
    return found


def test_the_connector_imports_nothing_rasa_pins() -> None:
    imported = _imported_distributions()
    assert "aiohttp" in imported and "pyyaml" in imported, imported
    assert not {"rasa", "rasa-sdk", "sanic", "tensorflow"} & set(imported), imported
    rasa_side = _pins(ROOT / "requirements" / "rasa.txt")
    connector = _pins(ROOT / "requirements" / "connector.txt")
    for dist, version in imported.items():
        # Each comes from the connector's own lock, resolved without Rasa.
        assert connector.get(dist) == version, (dist, version, connector.get(dist))
    # Rasa 3.6 pins aiohttp 3.9.5, which predates published security fixes.
    assert rasa_side["aiohttp"].startswith("3.9.")
    major, minor = (int(x) for x in imported["aiohttp"].split(".")[:2])
    assert (major, minor) >= (3, 13), imported["aiohttp"]


def test_the_connector_environment_has_no_rasa() -> None:
    for name in ("rasa", "rasa-sdk"):
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        raise AssertionError(f"{name} is installed in the connector's environment")


def test_pip_install_connector_extra_into_a_fresh_current_python(tmp_path: Path) -> None:
    """What a team does on the connector's host: a new venv, `pip install '.[connector]'`."""
    # From a copy of the sources: a build leaves its build/ folder beside them.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "handoff_connector", source / "handoff_connector",
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         f"{source}[connector]"], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    check = subprocess.run(
        [str(venv / "bin" / "handoff-connector"), "--help"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "serve" in check.stdout, check.stderr
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, timeout=60).stdout.lower()
    assert "rasa-handoff==0.2.0" in listed and "aiohttp==" in listed and "rasa==" not in listed
    # The static pages and the package data travel with the wheel.
    listing = ("import handoff_connector.service as s, pathlib; static = pathlib.Path(s.__file__).parent / 'static'; "
               "print(*(p.relative_to(static).as_posix() for p in static.glob('**/*.*')))")
    pages = subprocess.run([str(python), "-c", listing], capture_output=True, text=True, timeout=60)
    shipped = set(pages.stdout.split())
    assert {"desk.html", "desk/main.js", "common/dom.js", "insights/main.js"} <= shipped, pages.stderr
