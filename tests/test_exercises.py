"""srgan_lib.plumbing.exercises: answers folded in markdown, run and checked by ``run_solution``; and every notebook's
answers folded that way (issue 30: solution code rendered open on GitHub)."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from srgan_lib.plumbing import exercises
from srgan_lib.plumbing.exercises import outputs_match, run_solution, solution_cell

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps({"cells": [{"cell_type": kind, "source": text.splitlines(keepends=True), "metadata": {}}
                                 for kind, text in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


ANSWER = """<details><summary>Solution 2</summary>

Two and two.

```python
total = x + 2
print("total:", total, "ratio", f"{total / 3:.2f}")
```

It prints:

```text
total: 4 ratio 1.33
```
</details>"""


def test_solution_cell_finds_the_code_and_the_printed_text_of_one_answer():
    text = _notebook([("markdown", "<details><summary>Solution 1</summary>\n\n```python\npass\n```\n</details>"),
                      ("markdown", ANSWER), ("code", "run_solution(2)")])
    code, shown = solution_cell(text, 2)
    assert code == 'total = x + 2\nprint("total:", total, "ratio", f"{total / 3:.2f}")\n'
    assert shown == "total: 4 ratio 1.33\n"
    assert solution_cell(text, 1) == ("pass\n", "")
    with pytest.raises(ValueError, match="Solution 3"):
        solution_cell(text, 3)


def test_outputs_match_allows_two_units_of_the_last_shown_digit_and_nothing_else():
    assert not outputs_match("loss 0.6051\n", "loss 0.60")  # more digits printed than shown: different text
    assert outputs_match("loss 0.61\n", "loss 0.60")
    assert outputs_match("loss 0.62, ok", "loss 0.60, ok")
    assert not outputs_match("loss 0.63, ok", "loss 0.60, ok")
    assert not outputs_match("count 11", "count 10")  # integers are exact
    assert not outputs_match("x True", "x False")
    assert not outputs_match("a b", "a b c")
    assert outputs_match("1,549,462 parameters", "1,549,462 parameters")
    assert outputs_match("gap 12.5%", "gap 12.4%")
    assert not outputs_match("gap 12.5dB", "gap 12.4%")


def test_run_solution_runs_the_answer_on_the_notebooks_variables_and_checks_what_it_printed(tmp_path, monkeypatch,
                                                                                             capsys):
    (tmp_path / "99_demo.ipynb").write_text(_notebook([("markdown", ANSWER)]))
    monkeypatch.chdir(tmp_path)
    namespace = {"x": 2}
    run_solution(2, "99_demo.ipynb", namespace)  # reads x = 2: it would fail on any other value (below)
    assert namespace == {"x": 2}  # the answer's own names do not land in the notebook
    assert capsys.readouterr().out == ""  # nothing of the answer below the cell
    with pytest.raises(AssertionError, match="total: 5 ratio 1.67"):
        run_solution(2, "99_demo.ipynb", {"x": 3})  # a stale answer fails the notebook's run


FIGURE_ANSWER = """<details><summary>Solution 1</summary>

```python
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.plot([0, 1], [0, 1])
print("drew", len(ax.lines), "line")
```

It prints:

```text
drew 1 line
```
</details>"""


def test_a_figure_the_answer_draws_is_closed_unseen_and_said_so(tmp_path, monkeypatch, capsys):
    import matplotlib.pyplot as plt

    (tmp_path / "97_fig.ipynb").write_text(_notebook([("markdown", FIGURE_ANSWER)]))
    monkeypatch.chdir(tmp_path)
    kept = plt.figure()  # the notebook's own figure is left alone
    run_solution(1, "97_fig.ipynb", {})
    assert plt.get_fignums() == [kept.number]  # the answer's figure would have rendered open below the cell
    out = capsys.readouterr().out
    assert "drew 1 line" not in out and "Solution 1 also draws a figure, not shown here" in out
    plt.close(kept)


def test_a_notebook_that_cannot_be_found_or_fetched_is_named_in_the_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(exercises, "ROOT", tmp_path)

    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError, match=r"98_missing\.ipynb.*raw\.githubusercontent\.com/.*/v\d"):
        run_solution(1, "98_missing.ipynb", {})


def _solution_numbers(cell: dict) -> list[int]:
    return [int(n) for n in re.findall(r"<summary>\s*Solution\s+(\d+)\s*</summary>", "".join(cell["source"]))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_answer_code_renders_open(path):
    """GitHub and nbconvert show every code cell's source and output: an answer's code must sit in its folded
    markdown cell, and the code cell after it only runs it."""
    cells = json.loads(path.read_text())["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            hidden = cell["metadata"].get("jupyter", {}).get("source_hidden") or "hide-input" in cell["metadata"].get(
                "tags", [])
            assert not hidden, f"{path.name} cell {i}: hidden only in JupyterLab, open on GitHub"
            assert "# Solution" not in "".join(cell["source"]), f"{path.name} cell {i}: answer code in a code cell"
        for n in _solution_numbers(cell):
            assert cell["cell_type"] == "markdown" and "<details>" in "".join(cell["source"]), (path.name, i)
            if "```python" in "".join(cell["source"]):  # an answer with code (prose-only answers need no runner)
                runner = "".join(cells[i + 1]["source"]).strip() if i + 1 < len(cells) else ""
                assert cells[i + 1]["cell_type"] == "code" and runner == (
                    f'run_solution({n}, "{path.name}", globals())'), f"{path.name} cell {i + 1}: {runner!r}"
