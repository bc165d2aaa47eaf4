"""Write cell 1 (the Colab install cell, under the title) of every notebook from pyproject.toml: one install source (issue 25).

The repository (``[project.urls] Repository``) and the release (``v`` + ``[project] version``, a git tag) come from
pyproject.toml, the one place that names them; README's Colab badges are checked against the same URL by
``tests/test_packaging.py``, which also checks that every notebook's cell 1 (under the title) is exactly :func:`colab_cell`'s text.
A notebook therefore installs the release it was committed with, not whatever ``main`` is when it is opened.

At release time: bump ``version`` in pyproject.toml and ``srgan_lib/__init__.py``, run this script, commit, then
``git tag v<version>`` and push the tag (until it exists, the Colab install stops with the message below).

    python scripts/colab_cell.py            # rewrite cell 1 of notebooks/NN_*.ipynb
    python scripts/colab_cell.py --check    # exit 1 if any notebook's cell 1 differs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]

TEMPLATE = '''\
# On Colab: install this tutorial's package at the release this notebook was committed with
# (Colab's own torch is kept) and show the GPU. Locally: nothing.
# (Written by scripts/colab_cell.py from pyproject.toml.)
import sys
if "google.colab" in sys.modules:
    import importlib
    import importlib.util

    %pip install -q "srgan-tutorial @ git+{repo}@{ref}"
    importlib.invalidate_caches()
    if importlib.util.find_spec("srgan_lib") is None:
        raise SystemExit("Installing srgan-tutorial from "
                         "git+{repo}@{ref} "
                         "failed (pip's message is above): check that the runtime is online and "
                         "that the release {ref} exists, then run this cell again. "
                         "Nothing below can run without it.")
    !nvidia-smi -L || echo "No GPU: Runtime > Change runtime type > GPU (a CPU works too)"'''


def install_source() -> tuple[str, str]:
    """``(repository URL, git ref)`` from pyproject.toml: ``[project.urls] Repository`` and ``v<version>``."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    return project["urls"]["Repository"], f"v{project['version']}"


def colab_cell() -> str:
    """The source of every notebook's cell 1 (under the title)."""
    repo, ref = install_source()
    return TEMPLATE.format(repo=repo, ref=ref)


def main(argv: list[str] | None = None) -> int:
    import nbformat

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only check; exit 1 when a notebook differs")
    args = ap.parse_args(argv)
    want, stale = colab_cell(), []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if nb.cells[1].source == want:
            continue
        stale.append(path.name)
        if not args.check:
            nb.cells[1].source = want
            nbformat.write(nb, path)
    verb = "differ" if args.check else "rewritten"
    print(f"cell 1 {verb}: {', '.join(stale) or 'none'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
