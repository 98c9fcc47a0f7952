"""The web assets Pacte serves are the pinned packages' files, unchanged: each one's SHA-256 matches ASSETS.json,
which scripts/vendor_assets.py wrote when it vendored them (with their version, licence and registry integrity)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "pacte" / "web" / "static" / "ASSETS.json"


def test_every_vendored_file_matches_its_recorded_checksum() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/vendor_assets.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_each_package_is_pinned_with_its_licence() -> None:
    manifest = json.loads(MANIFEST.read_text())
    assert set(manifest) == {"@gouvfr/dsfr", "htmx.org", "swagger-ui-dist", "redoc"}
    for name, package in manifest.items():
        assert package["version"][0].isdigit() and package["integrity"].startswith("sha512-"), name
        assert any(Path(p).name.startswith(("LICENSE", "LICENCE")) for p in package["files"]), name


def test_a_changed_file_is_caught(tmp_path: Path) -> None:
    # The check must be able to fail: the same script on a copy whose stylesheet was altered.
    copy = tmp_path / "repo"
    for part in ("scripts", "pacte/web/static", "pacte/api/static"):
        (copy / part).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-r", str(ROOT / part), str((copy / part).parent)], check=True)
    css = copy / "pacte/web/static/vendor/dsfr/dsfr.min.css"
    css.write_text(css.read_text() + "\n/* changed */")
    done = subprocess.run(
        [sys.executable, "scripts/vendor_assets.py", "--check"], cwd=copy, capture_output=True, text=True
    )
    assert done.returncode == 1 and "dsfr.min.css" in done.stderr
