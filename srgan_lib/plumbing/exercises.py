"""Plumbing, not part of the lesson: exercise answers that stay folded wherever a notebook is read, and still run.

A notebook's answer to exercise *n* is one markdown cell::

    <details><summary>Solution n</summary>

    Why the answer is what it is, in prose.

    ```python
    print("the code of the answer")
    ```

    It prints:

    ```text
    the code of the answer
    ```
    </details>

GitHub, nbconvert and JupyterLab all fold ``<details>``, so the code and its output are one click away rather than
in plain view (a code cell's source and output always render open on GitHub: JupyterLab's ``source_hidden`` is
not honoured there). The code cell below it is only ``run_solution(n)``: :func:`run_solution` reads that markdown
cell, runs its code on the notebook's variables, and checks that it printed what the answer shows, so the answer
is executed by every test run (nbval) and cannot go stale. It prints nothing of the answer (nothing at all unless
the answer draws a figure).

The notebook file is found next to the working directory (JupyterLab, pytest) or in the repository this package
was installed from; on Colab, where a notebook opened from GitHub has no file on disk, it is read from the same
release on GitHub (``[project.urls] Repository`` at ``v<version>``).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import urllib.request
from importlib import metadata
from pathlib import Path

from .. import __version__

__all__ = ["solution_cell", "run_solution", "outputs_match"]

_SUMMARY = re.compile(r"<summary>\s*Solution\s+(\d+)\s*</summary>")
_FENCE = re.compile(r"```(python|text)\n(.*?)```", re.S)
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.(\d+))?(?:[eE][-+]?\d+)?")
ROOT = Path(__file__).resolve().parents[2]


def _notebook_text(notebook: str) -> str:
    """The JSON of ``notebook`` (a file name such as ``00_overview.ipynb``): from the working directory, its
    ``notebooks/`` folder, the repository this package sits in, or, failing those, the release on GitHub."""
    for folder in (Path.cwd(), Path.cwd() / "notebooks", ROOT / "notebooks"):
        if (folder / notebook).is_file():
            return (folder / notebook).read_text(encoding="utf-8")
    url = _release_url(notebook)
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (a fixed https URL)
            return response.read().decode("utf-8")
    except OSError as err:
        raise FileNotFoundError(
            f"{notebook}: not found in {Path.cwd()} or {ROOT / 'notebooks'}, and {url} could not be read ({err}). "
            "Run the notebook from the repository's notebooks/ folder, or online.") from None


def _release_url(notebook: str) -> str:
    """The raw GitHub URL of ``notebooks/<notebook>`` at this package's release tag."""
    repo = "https://github.com/srgan-tutorial/srgan-tutorial"
    with contextlib.suppress(metadata.PackageNotFoundError):
        for entry in metadata.metadata("srgan-tutorial").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() == "repository":
                repo = url.strip()
    owner_name = repo.rstrip("/").removeprefix("https://github.com/")
    return f"https://raw.githubusercontent.com/{owner_name}/v{__version__}/notebooks/{notebook}"


def solution_cell(source: str, n: int) -> tuple[str, str]:
    """``(code, printed)`` of the answer to exercise ``n`` in a notebook's JSON text ``source``: the ``python``
    and ``text`` blocks of the markdown cell whose ``<summary>`` is ``Solution n``. ``ValueError`` names what is
    missing."""
    cells = json.loads(source)["cells"]
    for cell in cells:
        text = "".join(cell["source"])
        found = _SUMMARY.search(text)
        if cell["cell_type"] == "markdown" and found and int(found.group(1)) == n:
            blocks = {kind: body for kind, body in _FENCE.findall(text)}
            if "python" not in blocks:
                raise ValueError(f"Solution {n} has no ```python block")
            return blocks["python"], blocks.get("text", "")
    raise ValueError(f"no markdown cell with <summary>Solution {n}</summary>")


def outputs_match(printed: str, shown: str) -> bool:
    """Whether ``printed`` is what ``shown`` says, word for word, except that a number may differ by up to two
    units of the last digit ``shown`` prints, with as many digits (``0.60`` accepts 0.58 to 0.62; integers must
    be equal): the answer's float32 figures move in their last digit between CPUs (their kernels sum in other
    orders)."""
    a, b = printed.strip().split(), shown.strip().split()
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x == y:
            continue
        mx, my = _NUMBER.fullmatch(x.rstrip(".,;:)%")), _NUMBER.fullmatch(y.rstrip(".,;:)%"))
        if not (mx and my) or x[len(mx.group(0)):] != y[len(my.group(0)):]:
            return False
        decimals = len(my.group(1) or "")
        if decimals != len(mx.group(1) or "") or (decimals == 0 and "e" not in y.lower()):
            return False
        value = lambda m: float(m.group(0).replace(",", ""))  # noqa: E731
        if abs(value(mx) - value(my)) > 2 * 10.0 ** -decimals + 1e-12:
            return False
    return True


def run_solution(n: int, notebook: str, namespace: dict) -> None:
    """Run the answer to exercise ``n`` of ``notebook`` on the notebook's variables (pass ``globals()``), and check
    that it printed what the answer shows (:func:`outputs_match`). ``AssertionError`` shows both texts when they
    differ.

    The answer runs in a copy of ``namespace``: it reads the notebook's variables, and the names it defines do not
    replace them. Nothing of the answer appears below the cell: a matching printout stays folded in the answer
    (the cell prints nothing), and a figure it draws is closed unseen (shown there, it would give the answer away on
    GitHub), with one line that says how to see it."""
    import matplotlib.pyplot as plt

    code, shown = solution_cell(_notebook_text(notebook), n)
    before = set(plt.get_fignums())
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, f"<{notebook}: Solution {n}>", "exec"), dict(namespace))  # noqa: S102 (its own code)
    finally:
        drawn = [k for k in plt.get_fignums() if k not in before]
        for k in drawn:
            plt.close(k)
    printed = buffer.getvalue()
    if not outputs_match(printed, shown):
        raise AssertionError(f"Solution {n} of {notebook} printed\n{printed}\nbut its answer shows\n{shown}")
    if drawn:
        print(f"Solution {n} also draws {'a figure' if len(drawn) == 1 else f'{len(drawn)} figures'}, not shown "
              "here so as not to give the answer away: paste its code into a new cell to see it.")
