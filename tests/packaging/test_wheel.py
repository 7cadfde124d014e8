"""The wheel of a clean clone installs a product that works, as an operator would install it.

The test copies the files Git has (tracked, or new and not ignored: no .mo, no build artefacts of
the working tree) into a folder of its own, builds the wheel there with pip, installs it into a new
virtualenv (its dependencies from the package index) and, in a working directory of its own, runs
``idp db upgrade`` on a new SQLite file and asks the installed product for a page in Ukrainian.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ("idp/translations", "connectors/multifon/translations", "connectors/iptel/translations")
# A message of each catalogue, found in no other: the core's on the sign-in page, the connectors'.
MESSAGES = {"idp": "Sign in", "multifon": "Balance", "iptel": "Call forwarding"}

# Run by the new virtualenv's Python, in a working directory of its own: prints one JSON line.
CHECK = """
import json, sqlite3, sys
from pathlib import Path
from flask_babel import gettext
import idp
from idp import MIGRATIONS, create_app

app = create_app()
client = app.test_client()
signin = client.get("/signin", headers={"Accept-Language": "uk"})
with app.test_request_context(headers={"Accept-Language": "uk"}):
    connectors = {name: gettext(message) for name, message in json.loads(sys.argv[2]).items()}
with sqlite3.connect(sys.argv[1]) as database:
    tables = [name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    versions = [version for (version,) in database.execute("SELECT version_num FROM alembic_version")]
print(json.dumps({
    "package": idp.__file__,
    "migrations": str(MIGRATIONS),
    "signin_status": signin.status_code,
    "signin": signin.get_data(as_text=True),
    "static_status": client.get("/static/app.css").status_code,
    "connectors": connectors,
    "tables": tables,
    "versions": versions,
}))
"""


def _run(command: list[str], **options) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, **options)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _clean_copy(target: Path) -> None:
    """Copy the files of a clean clone: Git's own and the new ones it would add, nothing ignored."""
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not in the clone
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _uk(catalogue: str, message: str) -> str:
    with (ROOT / catalogue / "uk" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        translated = read_po(po, locale="uk")[message].string
    assert translated and translated != message
    return translated


def _check_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    for catalogue in CATALOGUES:
        for locale in ("uk", "ru"):
            assert f"{catalogue}/{locale}/LC_MESSAGES/messages.mo" in names
    assert "idp/migrations/env.py" in names and "idp/migrations/alembic.ini" in names
    assert {
        f"idp/migrations/versions/{p.name}" for p in (ROOT / "migrations" / "versions").glob("*.py")
    } <= names
    for connector in ("multifon", "iptel"):
        assert any(n.startswith(f"connectors/{connector}/migrations/") for n in names)
    assert "ui/templates/layout.html" in names and "ui/static/app.css" in names
    # requests serves the tests, benchmarks and examples only: an extra, not a dependency.
    requests = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: requests")]
    assert requests and all("extra ==" in line for line in requests)


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the Git checkout of the product")
def test_wheel_of_a_clean_clone_installs_a_working_product(tmp_path):
    source, dist, venv, work = (tmp_path / name for name in ("source", "dist", "venv", "work"))
    _clean_copy(source)
    assert not list(source.rglob("*.mo"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_") and k != "PYTHONPATH"}
    env.pop("VIRTUAL_ENV", None)

    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)], env=env)
    (wheel,) = dist.glob("business_id-*.whl")
    _check_wheel(wheel)

    _run([sys.executable, "-m", "venv", str(venv)], env=env)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], env=env)

    work.mkdir()
    database = work / "data" / "idp.sqlite3"
    env["IDP_DATA_DIR"] = str(database.parent)
    _run([str(venv / "bin" / "idp"), "db", "upgrade"], cwd=work, env=env)
    (work / "check.py").write_text(CHECK, encoding="utf-8")
    connector_messages = {k: v for k, v in MESSAGES.items() if k != "idp"}
    done = _run(
        [str(python), str(work / "check.py"), str(database), json.dumps(connector_messages)],
        cwd=work,
        env=env,
    )
    outcome = json.loads(done.stdout.strip().splitlines()[-1])

    site = Path(outcome["package"]).resolve().parent.parent
    assert site.is_relative_to(venv.resolve()), outcome["package"]  # the installed product, not the tree
    assert Path(outcome["migrations"]).resolve() == site / "idp" / "migrations"
    assert outcome["signin_status"] == 200 and outcome["static_status"] == 200
    assert _uk("idp/translations", MESSAGES["idp"]) in outcome["signin"]
    assert outcome["connectors"] == {
        "multifon": _uk("connectors/multifon/translations", MESSAGES["multifon"]),
        "iptel": _uk("connectors/iptel/translations", MESSAGES["iptel"]),
    }
    assert {"service_links", "multifon_accounts", "iptel_accounts", "alembic_version"} <= set(
        outcome["tables"]
    )
    assert {"multifon_0001", "iptel_0002"} <= set(outcome["versions"])
    assert set(work.iterdir()) == {work / "check.py", work / "data"}  # no instance/ in the working directory
