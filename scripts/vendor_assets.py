"""Vendor the web assets Pacte serves itself, pinned: the State's design system (DSFR), htmx, and the API
documentation's Swagger UI and ReDoc. Nothing is fetched from a CDN at run time, so a préfecture's network without
internet (or this machine) shows every page.

    python scripts/vendor_assets.py          # fetch the pinned versions with `npm pack`, copy, write ASSETS.json
    python scripts/vendor_assets.py --check  # only check the committed files against ASSETS.json (what CI does)

Each package comes from the npm registry at the version pinned below; the files copied, the package's licence and
the registry's integrity string are recorded with each file's SHA-256 in ASSETS.json beside them. A stylesheet copied
brings every file its relative ``url(...)`` names (the DSFR's icons: its components draw them from
``icons/**.svg``), so a page never asks for a file the app does not serve; a name the package lacks stops the script.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "pacte" / "web" / "static" / "vendor"
DOCS = ROOT / "pacte" / "api" / "static"

# package, version, destination, {path in the package: path under the destination}
PACKAGES: list[tuple[str, str, Path, dict[str, str]]] = [
    (
        "@gouvfr/dsfr",
        "1.15.3",
        WEB / "dsfr",
        {
            "dist/dsfr.min.css": "dsfr.min.css",
            "dist/dsfr.module.min.js": "dsfr.module.min.js",
            "dist/dsfr.nomodule.min.js": "dsfr.nomodule.min.js",
            "dist/fonts/*": "fonts/",
            "dist/favicon/*": "favicon/",
            "LICENSE.md": "LICENSE.md",
        },
    ),
    ("htmx.org", "2.0.11", WEB / "htmx", {"dist/htmx.min.js": "htmx.min.js", "LICENSE": "LICENSE"}),
    (
        "swagger-ui-dist",
        "5.35.0",
        DOCS / "swagger-ui",
        {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "favicon-32x32.png": "favicon-32x32.png",
            "LICENSE": "LICENSE",
            "NOTICE": "NOTICE",
        },
    ),
    ("redoc", "2.5.4", DOCS / "redoc", {"bundles/redoc.standalone.js": "redoc.standalone.js", "LICENSE": "LICENSE"}),
]


# A relative reference in a stylesheet: not data:, not an absolute URL, not a fragment.
CSS_URL = re.compile(r"""url\(\s*['"]?(?!data:|[a-z]+:|/|#)([^'")?#]+)""")


def css_references(css: str) -> list[str]:
    """The relative files a stylesheet loads, each once, in order."""
    return list(dict.fromkeys(CSS_URL.findall(css)))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(name: str, version: str, work: Path) -> tuple[Path, dict[str, str]]:
    out = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout)[0]
    unpacked = work / info["name"].replace("/", "-")
    with tarfile.open(work / info["filename"]) as tar:
        tar.extractall(unpacked, filter="data")
    return unpacked / "package", {"integrity": info["integrity"], "shasum": info["shasum"]}


def vendor() -> None:
    manifest: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, version, dest, files in PACKAGES:
            package, registry = fetch(name, version, Path(tmp))
            if dest.exists():
                shutil.rmtree(dest)
            recorded: dict[str, str] = {}
            for source, target in files.items():
                matches = sorted(package.glob(source)) if "*" in source else [package / source]
                for found in matches:
                    to = dest / target / found.name if target.endswith("/") else dest / target
                    to.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(found, to)
                    recorded[str(to.relative_to(ROOT))] = sha256(to)
                    if found.suffix == ".css":
                        for ref in css_references(found.read_text(encoding="utf-8")):
                            needed, into = (found.parent / ref).resolve(), (to.parent / ref).resolve()
                            if not needed.is_file():
                                raise SystemExit(f"{ref}, named by {found.name}, is not in {name}@{version}")
                            into.parent.mkdir(parents=True, exist_ok=True)
                            shutil.copyfile(needed, into)
                            recorded[str(into.relative_to(ROOT))] = sha256(into)
            licence = json.loads((package / "package.json").read_text()).get("license")
            manifest[name] = {"version": version, "license": licence, **registry, "files": recorded}
            print(f"{name}@{version}: {len(recorded)} files ({licence})")
    (ROOT / "pacte" / "web" / "static" / "ASSETS.json").write_text(json.dumps(manifest, indent=2) + "\n")


def check() -> int:
    manifest = json.loads((ROOT / "pacte" / "web" / "static" / "ASSETS.json").read_text())
    bad = [
        path
        for package in manifest.values()
        for path, digest in package["files"].items()
        if not (ROOT / path).is_file() or sha256(ROOT / path) != digest
    ]
    for path in bad:
        print(f"changed or missing: {path}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="check the vendored files against ASSETS.json")
    sys.exit(check() if parser.parse_args().check else vendor())
