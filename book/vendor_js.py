"""Fetch the JavaScript the course website loads, pinned and checked, so pages need no CDN.

    python book/vendor_js.py build/site-vendor

Three npm packages, each at a pinned version whose tarball must match a pinned SHA-512
(the registry's ``dist.integrity``):

- ``requirejs``: the AMD loader the widget bundle needs;
- ``@jupyter-widgets/html-manager``: renders ipywidgets from the state saved in an executed
  notebook (1.0.15 is the release built against the same widget packages as
  jupyterlab_widgets 3.0.17 / ipywidgets 8.1.9, which requirements.lock pins);
- ``mathjax``: math rendering (Sphinx loads it only on pages that contain math).

They are too large to commit (the widget bundle alone is 3.6 MB), so they are fetched with
``npm pack`` (from npm's own cache when it has them, so a second fetch works offline) into DEST/_vendor/, which
the Sphinx build copies to the site's root (``html_extra_path``, not ``_static``). A stamp
file records what was fetched; a second run with the same pins does nothing. Each
package's package.json and licence go with it.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Where the files land inside the built site, and so the URLs the pages use.
VENDOR_DIR = "_vendor"


@dataclass(frozen=True)
class Package:
    """An npm package to vendor: which files of its tarball to keep, and where."""

    name: str
    version: str
    integrity: str  # "sha512-<base64>", as `npm view NAME@VERSION dist.integrity` prints it
    keep: tuple[str, ...]  # glob patterns, relative to the tarball's package/ folder
    drop: tuple[str, ...] = ()  # patterns removed again from what `keep` matched
    folder: str = ""  # folder under _vendor/

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES = (
    Package(
        name="requirejs",
        version="2.3.8",
        integrity="sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        keep=("require.js", "package.json"),
        folder="requirejs",
    ),
    Package(
        name="@jupyter-widgets/html-manager",
        version="1.0.15",
        integrity="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        # embed-amd.js is the whole bundle; the fonts (Font Awesome, for widget icons) sit
        # beside it and are found relative to it.
        keep=("dist/embed-amd.js", "dist/*.woff2", "dist/*.woff", "dist/*.ttf", "dist/*.eot",
              "dist/*.svg", "dist/embed.js.LICENSE.txt", "package.json"),
        folder="html-manager",
    ),
    Package(
        name="mathjax",
        version="3.2.2",
        integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        # The combined TeX/MathML-to-HTML build, the CHTML fonts it loads from output/, and
        # the TeX extensions and UI parts it loads on demand.
        keep=("es5/tex-mml-chtml.js", "es5/output/chtml/**", "es5/input/tex/extensions/**",
              "es5/ui/**", "es5/a11y/**", "LICENSE", "package.json"),
        folder="mathjax",
    ),
)

# URLs of the vendored entry points, relative to the site's root (used by book/conf.py).
REQUIREJS = f"{VENDOR_DIR}/requirejs/require.js"
HTML_MANAGER = f"{VENDOR_DIR}/html-manager/dist/embed-amd.js"
MATHJAX = f"{VENDOR_DIR}/mathjax/es5/tex-mml-chtml.js"

STAMP = ".vendored.json"


class VendorError(RuntimeError):
    """A package could not be fetched, or its tarball is not the pinned one."""


def integrity_of(data: bytes) -> str:
    """The npm ``dist.integrity`` string of a tarball's bytes: ``sha512-`` + base64 digest."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) or
               (p.endswith("/**") and path.startswith(p[:-2])) for p in patterns)


def npm_pack(package: Package, into: Path) -> Path:
    """Download ``package``'s tarball with ``npm pack`` into ``into``; return its path."""
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError(
            "npm is not installed, so the website's JavaScript cannot be fetched. "
            "Install Node.js and npm (Debian: apt-get install npm), then run make course again.")
    for mode in ("--offline", "--prefer-offline"):  # npm's cache first, then the registry
        result = subprocess.run(
            [npm, "pack", package.spec, "--json", mode, "--pack-destination", str(into)],
            capture_output=True, text=True, check=False)
        if result.returncode == 0:
            break
    else:
        raise VendorError(
            f"`npm pack {package.spec}` failed (exit {result.returncode}). It needs the npm "
            "registry once; later builds use npm's cache and this folder's copy, offline.\n"
            + result.stderr.strip()[-2000:])
    filename = json.loads(result.stdout)[0]["filename"]
    return into / filename.replace("@", "").replace("/", "-")


def extract(package: Package, tarball: Path, dest: Path) -> list[str]:
    """Check ``tarball`` against the pinned integrity, then copy the kept files to ``dest``.

    Returns the kept paths, relative to ``dest``. Raises VendorError on an integrity
    mismatch or when a ``keep`` pattern matches nothing (the package's layout changed).
    """
    data = tarball.read_bytes()
    got = integrity_of(data)
    if got != package.integrity:
        raise VendorError(
            f"{package.spec}: the downloaded tarball's integrity is {got}, not the pinned "
            f"{package.integrity}. Refusing to use it; if the version was changed on purpose, "
            f"update the pin in book/vendor_js.py from `npm view {package.spec} dist.integrity`.")
    kept: list[str] = []
    used: set[str] = set()
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith("package/"):
                continue
            rel = member.name[len("package/"):]
            if not _matches(rel, package.keep) or _matches(rel, package.drop):
                continue
            used.update(p for p in package.keep if _matches(rel, (p,)))
            target = dest / package.folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            kept.append(f"{package.folder}/{rel}")
    missing = [p for p in package.keep if p not in used]
    if missing:
        raise VendorError(f"{package.spec}: nothing in the tarball matches {missing}; "
                          "update `keep` in book/vendor_js.py for this version's layout.")
    return kept


def _wanted() -> dict[str, str]:
    return {p.spec: p.integrity for p in PACKAGES}


def vendor(dest: Path) -> Path:
    """Fill ``dest/_vendor`` with the pinned packages, unless its stamp says it holds them.

    Returns the ``_vendor`` folder. Raises VendorError when a package cannot be fetched or
    is not the pinned one; a partial result is never left behind as complete.
    """
    out = dest / VENDOR_DIR
    stamp = out / STAMP
    if stamp.is_file():
        try:
            recorded = json.loads(stamp.read_text())
        except ValueError:
            recorded = None
        if (recorded and recorded.get("packages") == _wanted()
                and all((out / f).is_file() for f in recorded.get("files", []))):
            return out
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="vendor-", dir=dest))
    try:
        files: list[str] = []
        with tempfile.TemporaryDirectory() as tmp:
            for package in PACKAGES:
                tarball = npm_pack(package, Path(tmp))
                files += extract(package, tarball, staging)
        (staging / "README.txt").write_text(
            "JavaScript vendored from the npm registry by book/vendor_js.py for the course "
            "website.\nEach folder holds one package's files, its package.json (name, version, "
            "licence) and its licence text where the package ships one:\n"
            + "".join(f"- {p.folder}/: {p.spec}\n" for p in PACKAGES))
        (staging / STAMP).write_text(json.dumps({"packages": _wanted(), "files": files},
                                                indent=1))
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        out = vendor(Path(argv[0]))
    except VendorError as err:
        print(f"vendor: {err}", file=sys.stderr)
        return 1
    print(f"vendor: {', '.join(p.spec for p in PACKAGES)} in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
