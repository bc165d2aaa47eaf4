"""Notebook 05's results made readable: the scores beside the paper's Tables 1 and 2 (sections 3.4 and 3.5) drawn
as one figure, and the long text table folded away.

:func:`results_figure` draws the rows of :func:`srgan_lib.plumbing.evaluate.evaluate` for one metric flavour: a row of
panels per evaluation set, one bar per method, with PSNR (the paper's number as a marker where it has one), NIQE
(the originals' own score as a line) and the 4-pixel grid score. :func:`folded_text` shows a text table, such
as :func:`srgan_lib.plumbing.evaluate.format_table`'s, as an HTML ``<details>`` block that stays closed until clicked, with
the plain text as the fallback. GitHub, nbconvert's HTML and JupyterLab all fold it.

Both take numbers the notebook computed; nothing here measures.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The measures drawn, in column order: row key, column header (the measure, then how to read it).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("psnr", "PSNR (dB)\nhigher: closer to the original"),
    ("niqe", "NIQE\nlower: more natural"),
    ("grid", "grid (grey levels)\nlower: less 4-pixel pattern"),
)
_GREY = "#7f7f7f"  # the interpolation baselines
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
_FONT = 9  # the smallest text in the figure: still legible at GitHub's width
_ROOM = 1.3  # each axis reaches 30 % past its largest value: room for the labels of the markers


def method_colours(methods: Sequence[str]) -> dict[str, str]:
    """One colour per method, the same in every panel: grey for the interpolations (bicubic, nearest), a
    distinct colour for each network in order."""
    colours, k = {}, 0
    for m in methods:
        if m.split(" (")[0].lower() in ("bicubic", "nearest"):
            colours[m] = _GREY
        else:
            colours[m] = _PALETTE[k % len(_PALETTE)]
            k += 1
    return colours


def _axis_start(key: str, low: float, high: float) -> float:
    """Where a panel's value axis starts: 0, except for PSNR (in decibels, whose ratios mean nothing),
    whose axis starts at a whole dB low enough that the shortest bar still holds its label (30 % of the axis)."""
    if key != "psnr":
        return 0.0
    return float(np.floor(min(low - 1.0, (low - 0.3 * _ROOM * high) / (1 - 0.3 * _ROOM))))


def _draw_panel(ax: Axes, methods: Sequence[str], cells: Sequence[Mapping | None], key: str,
                colours: Mapping[str, str], reference: float | None) -> tuple[bool, bool]:
    """One set's bars of one measure, with their values, the paper's PSNR markers and the reference line; returns
    (a paper marker drawn, a reference line drawn)."""
    ys = np.arange(len(methods))
    values = [None if r is None or r.get(key) is None else float(r[key]) for r in cells]
    papers = [r.get("paper") if r is not None and key == "psnr" else None for r in cells]
    reach = [v for v in values if v is not None] + [float(p[0]) for p in papers if p]
    reach += [reference] if reference is not None else []
    high = max(reach) if reach else 1.0
    start = _axis_start(key, min(reach) if reach else 0.0, high)
    span = (high - start) * _ROOM or 1.0
    ax.barh(ys, [v if v is not None else 0.0 for v in values], color=[colours[m] for m in methods], height=0.7,
            zorder=2)
    ax.set_xlim(start, start + span)
    for y, v, p in zip(ys, values, papers):  # the value: white inside a long enough bar, else black outside
        inside = v is not None and (v - start) / span > 0.22
        if inside and p and p[0] < v:  # the paper's diamond lies on the bar, near its end: the value at its start
            ax.annotate(f"{v:.2f}", (start, y), xytext=(6, 0), textcoords="offset points", va="center",
                        fontsize=_FONT, color="white", fontweight="bold", zorder=4)
            continue
        ax.annotate("n/a" if v is None else f"{v:.2f}", (start if v is None else v, y),
                    xytext=(-6 if inside else 4, 0), textcoords="offset points", ha="right" if inside else "left",
                    va="center", fontsize=_FONT, color="white" if inside else "black",
                    fontweight="bold" if inside else "normal", zorder=4)
    for y, p, v in zip(ys, papers, values):  # the paper's number: a diamond, its value to the right
        if p:
            ax.plot(p[0], y, ls="none", marker="D", ms=7, color="black", mec="white", mew=0.8, zorder=3)
            ax.annotate(f"{p[0]:.2f}", (max(p[0], v if v is not None else start), y), xytext=(7, 0),
                        textcoords="offset points", va="center", fontsize=_FONT)
    if reference is not None:  # behind the bars: seen between them, never across a bar's label
        ax.axvline(reference, color="black", lw=1.5, zorder=1)
        ax.annotate(f"originals {reference:.2f}", (reference, -0.5), xytext=(3, 1), textcoords="offset points",
                    ha="left", va="bottom", fontsize=_FONT)
    ax.set_ylim(len(methods) - 0.5, -1.1)  # a band above the first bar for the reference's label
    ax.tick_params(axis="x", labelsize=_FONT)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", alpha=0.3, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return any(papers), reference is not None


def results_figure(rows: Sequence[Mapping], originals_niqe: Mapping[str, float | None] | None = None,
                   flavour: str = "paper", title: str | None = None) -> Figure:
    """Our scores beside the paper's Tables 1 and 2 (sections 3.4 and 3.5), one row of panels per evaluation set.

    ``rows``: what :func:`srgan_lib.plumbing.evaluate.evaluate` returns (``method``, ``dataset``, ``flavour``, ``psnr``,
    ``ssim``, ``grid``, ``niqe``, ``paper``); only the rows of ``flavour`` are drawn, the paper's own protocol by
    default, so that its numbers compare. Each set gets PSNR, NIQE and the grid score (:data:`COLUMNS`), one
    horizontal bar per method with its value written on it. The PSNR panel marks the paper's number (a black
    diamond with its value) where a row carries one (full benchmark sets only); its axis starts near the lowest
    value, so the bars compare differences, not ratios. ``originals_niqe``: set name -> the mean NIQE of its HR
    originals (:func:`srgan_lib.plumbing.evaluate.originals_niqe`), drawn as a line in the NIQE panel. A column with no
    value in any row (NIQE or grid of rows made without them) is left out. Returns the Figure unshown.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if not rows:
        raise ValueError("results_figure: no rows to draw (evaluate() was given no upscalers or no sets?)")
    chosen = [r for r in rows if r.get("flavour") == flavour]
    if not chosen:
        found = sorted({str(r.get("flavour")) for r in rows})
        raise ValueError(f"results_figure: no rows of flavour {flavour!r}; the rows have {found}")
    methods = list(dict.fromkeys(r["method"] for r in chosen))
    sets = list(dict.fromkeys(r["dataset"] for r in chosen))
    by = {(r["method"], r["dataset"]): r for r in chosen}
    columns = [c for c in COLUMNS if any(r.get(c[0]) is not None for r in chosen)]
    colours = method_colours(methods)
    originals_niqe = originals_niqe or {}

    set_height = 0.4 * len(methods) + 0.75  # inches: the bars, the set's name, the ticks
    header = 0.45  # the first set's panels carry the column headers
    fig = plt.figure(figsize=(9.6, set_height * len(sets) + header + 0.8), layout="constrained")
    subfigs = np.atleast_1d(fig.subfigures(len(sets), 1, height_ratios=[set_height + header]
                                           + [set_height] * (len(sets) - 1)))
    drew_paper = drew_reference = False
    for i, (subfig, dataset) in enumerate(zip(subfigs, sets)):
        subfig.suptitle(dataset, x=0.0, ha="left", fontsize=11, fontweight="bold")
        axes = np.atleast_1d(subfig.subplots(1, len(columns), width_ratios=[1.3] + [1.0] * (len(columns) - 1)))
        for c, (ax, (key, label)) in enumerate(zip(axes, columns)):
            cells = [by.get((m, dataset)) for m in methods]
            reference = originals_niqe.get(dataset) if key == "niqe" else None
            paper, ref = _draw_panel(ax, methods, cells, key, colours, reference)
            drew_paper, drew_reference = drew_paper or paper, drew_reference or ref
            ax.set_yticks(np.arange(len(methods)), methods if c == 0 else [], fontsize=10)
            if i == 0:
                ax.set_title(label, fontsize=10, loc="left")
    handles = []
    if drew_paper:
        handles.append(Line2D([], [], ls="none", marker="D", ms=7, color="black",
                              label="the paper's number (Table 1 or 2); no diamond: the paper gives none"))
    if drew_reference:
        handles.append(Line2D([], [], color="black", lw=1.5, label="NIQE of the HR originals themselves"))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=_FONT, frameon=False)
    fig.suptitle(title or f"Scores beside the paper's Tables 1 and 2 ({flavour!r} flavour; means over each set)",
                 fontsize=12)
    return fig


def folded_bundle(summary: str, text: str) -> dict[str, str]:
    """A display bundle that shows ``text`` folded under a one-line ``summary``.

    ``text/html``: ``<details><summary>summary</summary><pre>text</pre></details>``, both escaped (a ``<`` in a
    table stays a character), closed until clicked. ``text/plain``: the summary line, then the text, for a
    console or any front end that shows no HTML.
    """
    folded = (f"<details><summary>{html.escape(summary)}</summary>\n"
              f"<pre>{html.escape(text)}</pre>\n</details>")
    return {"text/html": folded, "text/plain": f"{summary}\n{text}"}


def folded_text(summary: str, text: str) -> None:
    """Display ``text`` (a long table, a log) folded under ``summary``: one click opens it.

    The notebooks use it where a printed table would bury the figure that reads it (notebook 05, section 4). The
    HTML is escaped text in ``<pre>``, so GitHub and nbconvert's HTML export show it folded as well as JupyterLab.
    Outside IPython (a script) it prints the plain text.
    """
    from IPython import get_ipython
    from IPython.display import display

    bundle = folded_bundle(summary, text)
    if get_ipython() is None:
        print(bundle["text/plain"])
        return
    display(bundle, raw=True)
