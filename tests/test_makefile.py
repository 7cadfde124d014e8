"""The README's two commands: `make test` on a machine without Chromium stops at once, saying
which package to install, instead of failing every browser journey minutes later."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_test_without_chromium_stops_before_anything_runs(tmp_path):
    missing = tmp_path / "no-chromium"
    result = subprocess.run(
        ["make", "--no-print-directory", "test", f"IDP_TEST_CHROMIUM={missing}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert result.stdout == ""  # neither the linters nor pytest started
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "apt-get install -y chromium" in lines[0] and str(missing) in lines[0]
