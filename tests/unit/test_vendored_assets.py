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


def test_every_file_a_vendored_stylesheet_loads_is_vendored_too() -> None:
    # The DSFR draws its components' icons from icons/**.svg beside its stylesheet: each one missing was a 404 and a
    # blank pictogram on the pages (issue 22). The script follows every relative url(); this reads them back.
    sys.path.insert(0, str(ROOT / "scripts"))
    from vendor_assets import css_references

    manifest = json.loads(MANIFEST.read_text())
    vendored = {path for package in manifest.values() for path in package["files"]}
    stylesheets = [ROOT / p for p in vendored if p.endswith(".css")]
    assert stylesheets
    missing = [
        f"{css.relative_to(ROOT)} → {ref}"
        for css in stylesheets
        for ref in css_references(css.read_text(encoding="utf-8"))
        if str((css.parent / ref).resolve().relative_to(ROOT)) not in vendored
    ]
    assert not missing, missing
    assert any("/icons/" in p for p in vendored)  # the check reads what it means to


def test_css_references_reads_relative_urls_only() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from vendor_assets import css_references

    css = """a{background:url(icons/system/close-line.svg)}b{src:url("fonts/M.woff2") format("woff2")}
    c{mask:url('data:image/svg+xml;x')}d{background:url(https://cdn.example/x.png)}e{x:url(/abs.svg)}
    f{background:url(icons/system/close-line.svg)}"""
    assert css_references(css) == ["icons/system/close-line.svg", "fonts/M.woff2"]
