"""Numbers about the shipped weights that prose quotes are the numbers their model cards hold.

The cards (``srgan_lib/weights/NAME.json``) are re-measured from the weight files (tests/test_weights.py); the notebooks'
markdown and the README quote some of their numbers by hand. Each claim below names the paragraph by the words it
starts with (or contains) and the card numbers it must quote, formatted as the prose writes them, so retrained
weights with prose left behind fail here. A start on issue 30's "one source for every number", not all of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import nbformat
import pytest

from srgan_lib.plumbing import weights

ROOT = Path(__file__).resolve().parents[1]
SETS = ("Set5", "Set14", "BSD100")


def _paragraphs(path: Path) -> list[str]:
    """The paragraphs of a Markdown file or of a notebook's markdown cells, line breaks inside them undone."""
    if path.suffix == ".ipynb":
        texts = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    else:
        texts = [path.read_text(encoding="utf-8")]
    return [" ".join(p.split()) for t in texts for p in t.split("\n\n")]


def _metric(name: str, method: str, d: str, key: str = "psnr") -> float:
    return weights.card(name)["metrics"][f"{method}|{d}|paper"][key]


def _gains() -> list[str]:  # SRResNet over bicubic, "paper" flavour
    return [f"+{_metric('srresnet_x4', 'SRResNet', d) - _metric('srresnet_x4', 'bicubic', d):.2f}" for d in SETS]


def _srresnet_psnr() -> list[str]:
    return [f"{_metric('srresnet_x4', 'SRResNet', d):.2f}" for d in SETS]


def _srgan_started_from() -> list[str]:  # the SRResNet rows the SRGAN-MSE card keeps, and its own Set5
    return [f"{_metric('srgan_mse_x4', 'SRResNet', d):.2f}" for d in SETS] + [f"{_metric('srgan_mse_x4', 'SRGAN-MSE', 'Set5'):.2f}"]


def _set14_niqe() -> list[str]:
    return [f"{_metric('srresnet_x4', 'SRResNet', 'Set14', 'niqe'):.2f}", f"{_metric('srgan_mse_x4', 'SRGAN-MSE', 'Set14', 'niqe'):.2f}"]


def _srgan_psnr() -> list[str]:
    return [f"{_metric('srgan_mse_x4', 'SRGAN-MSE', d):.2f}" for d in SETS]


def _niqe_paragraph() -> list[str]:  # README: both models' NIQE on the three sets and the GAN's Set5 loss
    niqe = [f"{_metric(n, m, d, 'niqe'):.2f}" for n, m in (("srresnet_x4", "SRResNet"), ("srgan_mse_x4", "SRGAN-MSE"))
            for d in SETS]
    loss = _metric("srgan_mse_x4", "SRResNet", "Set5") - _metric("srgan_mse_x4", "SRGAN-MSE", "Set5")
    grid = [f"{_metric('srgan_mse_x4', 'SRGAN-MSE', d, 'grid'):.2f}" for d in ("Set5", "Set14")]
    return niqe + [f"{loss:.2f} dB"] + grid


def _probe_end(probe: str) -> dict:
    """The last point of one of the SRGAN-MSE card's probe runs (its ``probes``)."""
    return weights.card("srgan_mse_x4")["probes"][probe]["curve"][-1]


def _probe_at(probe: str, step: int) -> dict:
    return next(c for c in weights.card("srgan_mse_x4")["probes"][probe]["curve"] if c["step"] == step)


def _weight_probe() -> list[str]:  # the 2,000-step run at weight 1e-2 beside the shipped 5e-3 one
    end = _probe_end("weight 1e-2, 2,000 steps (phase 6)")
    return [f"{end['Set5_psnr']:.2f}", f"{end['Set14_niqe']:.2f}", f"{end['Set5_grid']:.2f} / {end['Set14_grid']:.2f}"]


def _shipped_weight() -> list[str]:
    grid = [f"{_metric('srgan_mse_x4', 'SRGAN-MSE', d, 'grid'):.2f}" for d in ("Set5", "Set14")]
    return [f"{_metric('srgan_mse_x4', 'SRGAN-MSE', 'Set5'):.2f}", f"{_metric('srgan_mse_x4', 'SRGAN-MSE', 'Set14', 'niqe'):.2f}",
            " / ".join(grid)]


def _appendix_b() -> list[str]:  # notebook 05's recipe table: the weight row and the lr_d row
    fast, slow = _probe_at("weight 1e-2, 1,400 steps (phase 5)", 400), _probe_at("weight 1e-2, G 1e-5, D 1e-5 (phase 5)", 400)
    lr_d = [f"{p['Set14_niqe']:.2f} at {p['Set5_psnr']:.2f} dB" for p in (fast, slow)]
    return _shipped_weight() + _weight_probe() + lr_d


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _benchmark_table(name: str) -> dict[str, tuple[str, ...]]:
    """The final table a benchmark printed into ``benchmarks/NAME.txt``: each row's name -> its numbers as printed.

    Rows are the lines below the table's header (the line starting ``method``) up to the first blank line; a row's
    numbers are its trailing numeric fields, its name the text before them (before the first ``(`` if any).
    """
    lines = (ROOT / "benchmarks" / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method"))
    table = {}
    for line in lines[start + 1:]:
        if not line.strip() or line.startswith("#"):
            break
        fields = line.split()
        k = len(fields)
        while k and _is_number(fields[k - 1]):
            k -= 1
        table[" ".join(fields[:k]).split(" (")[0]] = tuple(fields[k:])
    return table


def _short_run_weights() -> list[str]:  # notebook 05's Exercise 1: benchmarks/short_run_weight.txt
    table = _benchmark_table("short_run_weight")
    return [number for w in ("0.001", "0.005", "0.01") for number in table[f"SRGAN-MSE, weight {w}"]]


CLAIMS: list[tuple[str, str, Callable[[], list[str]]]] = [
    ("notebooks/02_srresnet_mse.ipynb", "In the table, the shipped SRResNet beats bicubic", _gains),
    ("notebooks/05_srgan_training_and_results.ipynb", "- **SRResNet** (shipped) gains", _gains),
    ("notebooks/05_srgan_training_and_results.ipynb", "- **The shipped SRGAN-MSE** was fine-tuned", _srgan_started_from),
    ("notebooks/05_srgan_training_and_results.ipynb", "| choice (setting) | the paper | measured effect |", _appendix_b),
    ("notebooks/05_srgan_training_and_results.ipynb", "The 300-step run of §3 at three weights", _short_run_weights),
    ("notebooks/05_srgan_training_and_results.ipynb", "longer run on many photographs", _weight_probe),
    ("notebooks/00_overview.ipynb", "the shipped GAN moves Set14 from SRResNet's", _set14_niqe),
    ("README.md", "| `srresnet_x4` | SRResNet, pixel MSE", _srresnet_psnr),
    ("README.md", "| `srgan_mse_x4` | SRGAN-MSE (Table 1)", _srgan_psnr),
    ("README.md", "(`srgan evaluate`'s `niqe` column)", _niqe_paragraph),
]


@pytest.mark.parametrize("file, anchor, numbers", CLAIMS, ids=[f"{Path(f).stem}: {a[:30]}" for f, a, _ in CLAIMS])
def test_prose_quotes_the_cards_numbers(file: str, anchor: str, numbers: Callable[[], list[str]]) -> None:
    if not {"srresnet_x4", "srgan_mse_x4"} <= set(weights.available()):
        pytest.skip("the shipped weights are not in this installation")
    found = [p for p in _paragraphs(ROOT / file) if anchor in p]
    assert len(found) == 1, f"{file}: {len(found)} paragraphs contain {anchor!r} (the claim's anchor moved?)"
    paragraph = found[0]
    if file == "README.md" and anchor.startswith("|"):  # a table row: only that line
        paragraph = next(line for line in (ROOT / file).read_text(encoding="utf-8").splitlines() if anchor in line)
    missing = [n for n in numbers() if n not in paragraph]
    assert not missing, f"{file}: the paragraph starting {anchor!r} does not quote the card's {missing}: {paragraph[:300]}"
