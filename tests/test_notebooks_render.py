"""Every committed notebook as a reader sees it: Markdown rendered as nbconvert renders it, and the outputs.

A notebook fails on
- broken LaTeX: a ``$...$`` / ``$$...$$`` span that does not come out of the renderer verbatim, unbalanced
  braces in one, or an ``_`` that the Markdown renderer turns into italics (``φ_{i,j}(x)_{x,y}`` outside
  ``$...$``: write formulas in LaTeX; the project's emphasis is ``*...*``);
- machine paths in outputs (``/root/``, ``/home/``, ``/work/``, ``/tmp/``, ``.cache/``, ``site-packages``);
- stderr streams and error tracebacks in committed outputs;
- frozen progress widgets (tqdm) and interactive widgets without a static image beside them in the same
  cell, as an output of its own: GitHub and exported HTML render a widget's output as the widget or as nothing,
  never as the PNG its own bundle may carry.

The checks are tested themselves on small Markdown and output samples below (the first tests).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
MACHINE_PATHS = ("/root/", "/home/", "/work/", "/tmp/", ".cache/", "site-packages")
WIDGET = "application/vnd.jupyter.widget-view+json"
PLACEHOLDER = "\u2063"  # an invisible separator: never an emphasis delimiter
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.S)
_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$", re.S)
_TQDM = re.compile(r"\d+%\|.*\|\s*\d+/\d+|it/s\]|s/it\]")


def _render(markdown: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(markdown)


def _math_spans(markdown: str) -> list[str]:
    """The ``$$...$$`` and ``$...$`` spans of a Markdown text, outside code spans, delimiters included."""
    text = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), markdown)
    return [markdown[m.start():m.end()] for m in _MATH.finditer(text)]


def markdown_problems(markdown: str) -> list[str]:
    """What is wrong with one Markdown cell as nbconvert renders it (empty: nothing)."""
    problems = []
    out = _render(markdown)
    emphasis = Counter(re.findall(r"<(em|strong)>(.*?)</\1>", out, re.S))
    plain = _render(markdown.replace("_", PLACEHOLDER)).replace(PLACEHOLDER, "_")
    made_by_underscores = emphasis - Counter(re.findall(r"<(em|strong)>(.*?)</\1>", plain, re.S))
    if made_by_underscores:
        shown = [text[:40] for _, text in made_by_underscores]
        problems.append(f"'_' turned into italics (a subscript outside $...$?): {shown[:3]}")
    for span in _math_spans(markdown):
        body = span.strip("$")
        if html.escape(span, quote=False) not in out and span not in out:
            problems.append(f"math span not rendered verbatim: {span[:60]!r}")
        depth = 0
        for ch in re.sub(r"\\[{}]", "", body):
            depth += {"{": 1, "}": -1}.get(ch, 0)
            if depth < 0:
                break
        if depth != 0:
            problems.append(f"unbalanced braces in {span[:60]!r}")
        if body.count("\\left") != body.count("\\right"):
            problems.append(f"\\left without \\right in {span[:60]!r}")
    return problems


def _output_text(out) -> str:
    if out.output_type == "stream":
        return out.text
    if out.output_type == "error":
        return "\n".join(out.traceback)
    data = out.get("data", {})
    return "\n".join(str(v) for k, v in data.items() if k.startswith("text/") or k == "application/json")


def output_problems(cell) -> list[str]:
    """What a reader should not see in one code cell's committed outputs (empty: nothing)."""
    problems = []
    has_image = any(("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}))
                    and WIDGET not in o.get("data", {}) for o in cell.outputs)  # a widget's own PNG is not shown
    for out in cell.outputs:
        text = _output_text(out)
        found = [p for p in MACHINE_PATHS if p in text]
        if found:
            line = next(line for line in text.splitlines() if any(p in line for p in found))
            problems.append(f"machine path {found} in output: {line.strip()[:90]!r}")
        if out.output_type == "stream" and out.name == "stderr":
            problems.append(f"stderr in output: {out.text.strip()[:90]!r}")
        if out.output_type == "error":
            problems.append(f"error in output: {out.get('ename')}: {out.get('evalue', '')[:80]}")
        data = out.get("data", {})
        if WIDGET in data:
            plain = str(data.get("text/plain", ""))
            if _TQDM.search(plain) or "Progress" in plain:
                problems.append(f"frozen progress widget: {plain.strip()[:60]!r}")
            elif not has_image:
                problems.append(f"widget with no static image beside it: {plain.strip()[:50]!r}")
    return problems


def notebook_problems(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        found = markdown_problems(cell.source) if cell.cell_type == "markdown" else (
            output_problems(cell) if cell.cell_type == "code" else [])
        problems += [f"{path.name} cell {i}: {p}" for p in found]
    return problems


# ---------------------------------------------------------------------------------------------------
# The checks, checked
# ---------------------------------------------------------------------------------------------------

def test_a_subscript_formula_outside_math_is_flagged_and_latex_passes():
    broken = "> l = 1 / (W_{i,j} H_{i,j}) · Σ_x Σ_y ( φ_{i,j}(I_HR)_{x,y} − φ_{i,j}(G(I_LR))_{x,y} )²"
    assert any("italics" in p for p in markdown_problems(broken))  # notebook 03's equation 5, as it was
    fixed = r"$$l = \frac{1}{W_{i,j}H_{i,j}} \sum_x \sum_y \big(\phi_{i,j}(I^{HR})_{x,y} - \phi_{i,j}(G(I^{LR}))_{x,y}\big)^2$$"
    assert markdown_problems(fixed) == []
    assert markdown_problems("Inline $l^{SR}_X + 10^{-3} l^{SR}_{Gen}$ and `snake_case_name` and *emphasis*.") == []


def test_broken_math_is_flagged():
    assert any("unbalanced" in p for p in markdown_problems(r"$\frac{1}{2$ here"))
    assert any("left" in p for p in markdown_problems(r"$\left( x$"))


def test_outputs_with_paths_stderr_and_bare_widgets_are_flagged():
    stream = nbformat.v4.new_output("stream", name="stdout", text="saved to /root/.cache/torch/hub/x.pth\n")
    err = nbformat.v4.new_output("stream", name="stderr", text="UserWarning: careful\n")
    tqdm = nbformat.v4.new_output("display_data", data={WIDGET: {"model_id": "a"},
                                                        "text/plain": "  0%|          | 0/300 [00:00<?, ?it/s]"})
    widget = nbformat.v4.new_output("display_data", data={WIDGET: {"model_id": "b"}, "text/plain": "VBox(children=(HBox("})
    png = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    cell = nbformat.v4.new_code_cell(outputs=[stream, err, tqdm, widget])
    problems = " | ".join(output_problems(cell))
    for word in ("machine path", "stderr", "frozen progress", "no static image"):
        assert word in problems
    assert output_problems(nbformat.v4.new_code_cell(outputs=[png, widget])) == []
    snapshot_only = nbformat.v4.new_output("display_data", data={WIDGET: {"model_id": "c"}, "image/png": "iVBORw0KGgo=",
                                                                 "text/plain": "SnapshotVBox(children=("})
    assert "no static image" in " ".join(output_problems(nbformat.v4.new_code_cell(outputs=[snapshot_only])))


# ---------------------------------------------------------------------------------------------------
# The committed notebooks
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_renders_cleanly(path: Path):
    problems = notebook_problems(path)
    assert not problems, "\n".join(problems)
