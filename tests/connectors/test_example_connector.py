"""A third-party connector, installed like any package, appears, links and renders.

tests/example_connector is a separate package (its own pyproject.toml and ``idp.connectors`` entry
point). The test installs it into a folder of its own with pip, as an operator would, and drives
the app in another process (tests/connectors/example_connector_check.py) with that folder on the path: the
test process never sees the connector's entry point or its table.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tests" / "example_connector"
CHECK = ROOT / "tests" / "connectors" / "example_connector_check.py"


def _can_build_offline() -> bool:
    """setuptools builds wheels itself from 70.1; before that it needs the ``wheel`` package."""
    import setuptools

    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _compile_catalogues(source: Path) -> None:
    """Compile the package's .po files, as its release build would (.mo files are not in Git)."""
    for po_path in source.rglob("*.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with po_path.with_suffix(".mo").open("wb") as mo_file:
            write_mo(mo_file, catalog)


def _install(target: Path, scratch: Path) -> None:
    """``pip install`` the example connector into ``target``, offline, with the venv's setuptools."""
    assert _can_build_offline(), "building a package offline needs `wheel` (or setuptools >= 70.1)"
    source = scratch / "example_connector"  # a copy, so the build leaves nothing in the repository
    shutil.copytree(
        PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "*.mo")
    )
    _compile_catalogues(source)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_installed_connector_appears_links_and_renders(tmp_path):
    site = tmp_path / "site"
    _install(site, tmp_path)
    assert (site / "idp_fax_connector" / "migrations" / "fax_0001_mailboxes.py").exists()
    assert (site / "idp_fax_connector" / "translations" / "uk" / "LC_MESSAGES" / "messages.mo").exists()
    data = tmp_path / "data"
    data.mkdir()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("IDP_") and key != "PYTHONPATH"
    }
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            # SQLite cannot reflect an index on an expression (lower(email)), as pyproject's
            # filterwarnings say for the suite itself.
            "-W",
            "ignore:Skipped unsupported reflection of expression-based index",
            "-W",
            "ignore:autogenerate skipping metadata-specified expression-based index",
            str(CHECK),
            str(data),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    outcome = json.loads(lines[-1])
    assert "error" not in outcome, outcome["error"] + done.stderr
    failed = {name: outcome["details"].get(name) for name, held in outcome["checks"].items() if not held}
    assert failed == {}
    assert done.returncode == 0
    assert outcome["details"]["claim"] == [
        {
            "connector": "fax",
            "account": "380441234567",
            "role": "owner",
            "organisation": None,
            "fax_number": "+380441234567",
        }
    ]


def test_the_core_does_not_know_the_example_connector():
    mentions = []
    for path in (ROOT / "idp").rglob("*"):
        if path.is_file() and path.suffix in {".py", ".html", ".txt", ".po", ".ini", ".mako", ".cfg"}:
            text = path.read_text(encoding="utf-8").lower()
            if any(word in text for word in ("idp_fax_connector", "example_connector", "fax")):
                mentions.append(str(path.relative_to(ROOT)))
    assert mentions == []
