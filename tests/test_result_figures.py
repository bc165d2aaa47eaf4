"""Tests for srgan_lib.figures.result_figures: notebook 05's results figure (Tables 1 and 2 drawn) and the folded text table."""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from srgan_lib.figures import result_figures  # noqa: E402
from srgan_lib.plumbing.evaluate import format_table, paper_value  # noqa: E402

pytestmark = pytest.mark.usefixtures("close_figures")

METHODS = ("bicubic", "SRResNet", "SRGAN-MSE (this run)")
SETS = ("Set5", "Set14", "tiny <2 images>")


def _rows() -> list[dict]:
    """Rows shaped as evaluate() returns them: 3 methods x 3 sets x 2 flavours, the paper's numbers on the paper
    flavour of the two full sets only (paper_value knows no "tiny" set)."""
    rows = []
    for i, m in enumerate(METHODS):
        for j, d in enumerate(SETS):
            for f in ("standard", "paper"):
                rows.append({"method": m, "dataset": d, "flavour": f, "psnr": 26.0 + i - j / 2 + (f == "paper") / 10,
                             "ssim": 0.7 + i / 20, "grid": 0.2 + i / 10, "niqe": 8.0 - i,
                             "paper": paper_value(m, d) if f == "paper" else None})
    return rows


def _bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def _diamonds(ax) -> list[Line2D]:
    return [line for line in ax.lines if line.get_marker() == "D"]


def test_results_figure_draws_one_bar_per_method_in_every_panel():
    rows = _rows()
    fig = result_figures.results_figure(rows, originals_niqe={"Set5": 5.5, "Set14": 4.9})
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(SETS) * 3  # PSNR, NIQE and grid for every set
    assert 9 <= fig.get_figwidth() <= 10  # GitHub's width, so that it is not shrunk much
    assert min(t.get_fontsize() for t in fig.findobj(Text) if t.get_text()) >= 9  # legible there
    assert all(len(_bars(ax)) == len(METHODS) for ax in fig.axes)
    psnr_set5, niqe_set5 = fig.axes[0], fig.axes[1]
    paper_rows = {r["method"]: r for r in rows if r["dataset"] == "Set5" and r["flavour"] == "paper"}
    assert [b.get_width() for b in _bars(psnr_set5)] == pytest.approx([paper_rows[m]["psnr"] for m in METHODS])
    assert [t.get_text() for t in psnr_set5.get_yticklabels()] == list(METHODS)
    assert not any(t.get_text() for t in niqe_set5.get_yticklabels())  # the method names once per set, on the left
    texts = {t.get_text() for t in psnr_set5.texts}
    assert {f"{paper_rows[m]['psnr']:.2f}" for m in METHODS} <= texts  # every bar has its value on it
    # the paper's number: a diamond where the row carries one (bicubic, SRResNet, SRGAN-MSE on the full sets)
    assert [d.get_xdata()[0] for d in _diamonds(psnr_set5)] == [paper_value(m, "Set5")[0] for m in METHODS]
    assert _diamonds(fig.axes[6]) == []  # the "tiny" set: no paper column
    assert "originals 5.50" in {t.get_text() for t in niqe_set5.texts}  # the HR reference line, where given
    assert not any("originals" in t.get_text() for t in fig.axes[7].texts)
    lo, hi = psnr_set5.get_xlim()
    assert lo < min(r["psnr"] for r in paper_rows.values()) and hi > paper_value("SRResNet", "Set5")[0]


def test_results_figure_leaves_out_the_columns_the_rows_lack():
    rows = [{**r, "niqe": None, "grid": None} for r in _rows()]  # rows made without NIQE and grid (table2's)
    fig = result_figures.results_figure(rows, flavour="standard")
    assert len(fig.axes) == len(SETS)  # PSNR only
    assert all(_diamonds(ax) == [] for ax in fig.axes)  # the standard flavour carries no paper numbers
    assert "'standard' flavour" in fig._suptitle.get_text()


def test_results_figure_refuses_empty_rows_and_a_missing_flavour():
    with pytest.raises(ValueError, match="no rows to draw"):
        result_figures.results_figure([])
    with pytest.raises(ValueError, match=r"no rows of flavour 'paper'; the rows have \['standard'\]"):
        result_figures.results_figure([r for r in _rows() if r["flavour"] == "standard"])


def test_method_colours_grey_baselines_and_distinct_networks():
    colours = result_figures.method_colours(["bicubic", "SRResNet", "SRGAN-MSE (shipped)", "nearest"])
    assert colours["bicubic"] == colours["nearest"]
    assert len({colours["bicubic"], colours["SRResNet"], colours["SRGAN-MSE (shipped)"]}) == 3


def test_folded_bundle_folds_escaped_html_and_keeps_the_plain_table():
    table = format_table(_rows())
    bundle = result_figures.folded_bundle("The full table <30 rows>", table + "\nx < y & z")
    folded = bundle["text/html"]
    assert folded.startswith("<details><summary>") and folded.rstrip().endswith("</details>")
    assert "<details open" not in folded  # closed until clicked
    assert "<summary>The full table &lt;30 rows&gt;</summary>" in folded
    assert "x &lt; y &amp; z" in folded and "x < y" not in folded
    assert html.unescape(folded.split("<pre>")[1].split("</pre>")[0]) == table + "\nx < y & z"
    assert bundle["text/plain"] == "The full table <30 rows>\n" + table + "\nx < y & z"


def test_folded_text_displays_both_mime_types_raw_in_ipython_and_prints_the_text_elsewhere(monkeypatch, capsys):
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)  # a script: no shell
    result_figures.folded_text("summary", "a | b")
    assert shown == [] and capsys.readouterr().out == "summary\na | b\n"
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # a kernel
    result_figures.folded_text("summary", "a | b")
    assert shown == [(result_figures.folded_bundle("summary", "a | b"), True)]
