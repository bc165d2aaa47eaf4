"""The shipped weights and their model cards: the numbers a card states are the numbers the file gives.

Oracle: re-measuring. Each bundled weight file is scored on Set5 (both metric flavours) and compared with
the PSNR/SSIM its card (``NAME.json``) records, and the card's Markdown is checked against its JSON, so a
retrained file with a stale card, or a card edited by hand, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from srgan_lib import weights
from srgan_lib.data import load_eval_set
from srgan_lib.evaluate import evaluate, model_upscaler

# The method name each card files its own metrics under.
METHOD = {"srresnet_x4": "SRResNet", "srgan_mse_x4": "SRGAN-MSE"}


@pytest.mark.parametrize("name", sorted(weights.BUNDLED))
def test_card_metrics_are_what_the_weights_measure_on_set5(shared_datasets: Path, name: str) -> None:
    if name not in weights.available():
        pytest.skip(f"{name} is not in this installation")
    card = weights.card(name)
    rows = evaluate({METHOD[name]: model_upscaler(weights.load_generator(name))},
                    {"Set5": load_eval_set(shared_datasets / "Set5")})
    for r in rows:
        stated = card["metrics"][f"{METHOD[name]}|Set5|{r['flavour']}"]
        assert r["psnr"] == pytest.approx(stated["psnr"], abs=2e-3), (name, r["flavour"])
        assert r["ssim"] == pytest.approx(stated["ssim"], abs=2e-4), (name, r["flavour"])


@pytest.mark.parametrize("name", sorted(weights.BUNDLED))
def test_card_markdown_states_the_json_numbers(name: str) -> None:
    if name not in weights.available():
        pytest.skip(f"{name} is not in this installation")
    card = weights.card(name)
    md = (weights.WEIGHTS_DIR / f"{name}.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith(f"| **this {METHOD[name]}, \"paper\" flavour**"))
    cells = re.findall(r"(\d+\.\d\d) / (\d\.\d{4})", row)
    expected = [(f"{card['metrics'][f'{METHOD[name]}|{d}|paper']['psnr']:.2f}",
                 f"{card['metrics'][f'{METHOD[name]}|{d}|paper']['ssim']:.4f}") for d in ("Set5", "Set14", "BSD100")]
    assert cells == expected
