"""The build steps pyproject.toml cannot declare, so that a wheel carries all the product runs on.

- The compiled gettext catalogues (``.mo``, git-ignored) of the core and of each connector: the
  build compiles every ``.po`` of the packages beside it, as ``make compile-translations`` does in
  the tree, so an installed product answers in Ukrainian and Russian.
- The core's Alembic history, ``migrations/`` at the root of the tree, goes into the wheel as
  ``idp/migrations``, where ``idp`` looks for it first (``idp db upgrade``). Each connector's
  history is in its own package already.

An editable install (``make``'s ``pip install -e``) runs on the tree itself: ``migrations/`` at the
root and the catalogues of ``make compile-translations``; this step adds nothing to it.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
MIGRATIONS = ROOT / "migrations"
MIGRATIONS_IN_WHEEL = Path("idp", "migrations")


class BuildPy(build_py):
    """``build_py``, plus the compiled catalogues and the core's migrations in the build."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for po, mo in self._catalogues():
            self.make_file([po], mo, _compile_catalogue, (po, mo), f"compiling {po} -> {mo}")
        for source, target in self._migrations():
            self.mkpath(str(Path(target).parent))
            self.copy_file(source, target)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        return [*outputs, *(mo for _, mo in self._catalogues()), *(t for _, t in self._migrations())]

    def _catalogues(self) -> list[tuple[str, str]]:
        """(source .po, built .mo) of every catalogue among the packages' data."""
        return [
            (str(Path(source_dir, name)), str(Path(build_dir, name).with_suffix(".mo")))
            for _package, source_dir, build_dir, names in self.data_files
            for name in names
            if name.endswith(".po")
        ]

    def _migrations(self) -> list[tuple[str, str]]:
        """(source, built) of each file of the core's Alembic history."""
        files = sorted(
            path
            for path in MIGRATIONS.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")
        )
        target = Path(self.build_lib, MIGRATIONS_IN_WHEEL)
        return [(str(path), str(target / path.relative_to(MIGRATIONS))) for path in files]


def _compile_catalogue(po: str, mo: str) -> None:
    """Compile one catalogue, fuzzy entries included, as ``pybabel compile --use-fuzzy`` does."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    locale = Path(po).parent.parent.name  # <locale>/LC_MESSAGES/<domain>.po
    with open(po, "rb") as source:
        catalog = read_po(source, locale=locale)
    Path(mo).parent.mkdir(parents=True, exist_ok=True)
    with open(mo, "wb") as target:
        write_mo(target, catalog, use_fuzzy=True)


setup(cmdclass={"build_py": BuildPy})
