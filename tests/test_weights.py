"""The shipped weights and their model cards: the numbers a card states are the numbers the file gives.

Oracle: re-measuring. Each bundled weight file is scored on Set5 (both metric flavours) and compared with
the PSNR/SSIM its card (``NAME.json``) records, and the card's Markdown must be what ``scripts/make_card.py``
renders from that JSON, so a retrained file with a stale card, or a card edited by hand, fails here.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

from srgan_lib import weights
from srgan_lib.data import load_eval_set
from srgan_lib.evaluate import evaluate, model_upscaler


@pytest.fixture(scope="module")
def mc():
    """``scripts/make_card.py`` as a module (scripts/ is not a package), loaded once."""
    spec = importlib.util.spec_from_file_location("make_card", Path(__file__).parents[1] / "scripts" / "make_card.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(weights.BUNDLED))
def test_card_metrics_are_what_the_weights_measure_on_set5(shared_datasets: Path, name: str, mc) -> None:
    if name not in weights.available():
        pytest.skip(f"{name} is not in this installation")
    card, method = weights.card(name), mc.METHOD[name]  # METHOD: the name each card files its own rows under
    rows = evaluate({method: model_upscaler(weights.load_generator(name))},
                    {"Set5": load_eval_set(shared_datasets / "Set5")})
    for r in rows:
        stated = card["metrics"][f"{method}|Set5|{r['flavour']}"]
        assert r["psnr"] == pytest.approx(stated["psnr"], abs=2e-3), (name, r["flavour"])
        assert r["ssim"] == pytest.approx(stated["ssim"], abs=2e-4), (name, r["flavour"])


def test_every_bundled_weight_has_a_card_template(mc) -> None:
    assert set(mc.RENDER) == set(weights.BUNDLED) == set(mc.METHOD)


@pytest.mark.parametrize("name", sorted(weights.BUNDLED))
def test_card_markdown_is_the_rendering_of_its_json(name: str, mc) -> None:
    if name not in weights.available():
        pytest.skip(f"{name} is not in this installation")
    card = weights.card(name)
    md = (weights.WEIGHTS_DIR / f"{name}.md").read_text()
    assert md == mc.RENDER[name](card), f"{name}.md is stale: python scripts/make_card.py {name}"
    # and the bold "paper" row states the JSON's own numbers (independent of the template's formatting code)
    method = mc.METHOD[name]
    row = next(line for line in md.splitlines() if line.startswith(f"| **this {method}, \"paper\" flavour**"))
    expected = [(f"{card['metrics'][f'{method}|{d}|paper']['psnr']:.2f}",
                 f"{card['metrics'][f'{method}|{d}|paper']['ssim']:.4f}") for d in ("Set5", "Set14", "BSD100")]
    assert re.findall(r"(\d+\.\d\d) / (\d\.\d{4})", row) == expected


def test_make_card_check_flags_a_card_edited_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture, mc) -> None:
    for f in weights.WEIGHTS_DIR.glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
        shutil.copy(f.with_suffix(".md"), tmp_path / f"{f.stem}.md")
    assert mc.main(["--check", "--dir", str(tmp_path)]) == 0
    md = tmp_path / "srresnet_x4.md"
    md.write_text(md.read_text().replace("it is met", "it is almost met"))
    assert mc.main(["--check", "--dir", str(tmp_path)]) == 1
    assert "srresnet_x4.md: stale" in capsys.readouterr().err
    assert mc.main(["srresnet_x4", "--dir", str(tmp_path)]) == 0  # re-rendering repairs it
    assert mc.main(["--check", "--dir", str(tmp_path)]) == 0


def test_make_card_measure_refreshes_the_metrics(tmp_path: Path, shared_datasets: Path, mc) -> None:
    # --measure on a card whose own numbers were blanked out fills them in with what a separate call of
    # evaluate() measures, and leaves the started-from SRResNet rows as recorded.
    name = "srgan_mse_x4"
    if name not in weights.available():
        pytest.skip(f"{name} is not in this installation")
    card = weights.card(name)
    blank = dict(card, metrics={k: ({"psnr": 0.0, "ssim": 0.0} if not k.startswith("SRResNet|") else v)
                                for k, v in card["metrics"].items()})
    subsets = tmp_path / "sets"
    for d in ("Set5", "Set14", "BSD100"):  # one image each keeps this test short
        (subsets / d).mkdir(parents=True)
        for f in sorted((shared_datasets / d).glob("*.png"))[:1]:
            shutil.copy(f, subsets / d / f.name)
    new = mc.measure(name, blank, subsets)
    rows = evaluate({"SRGAN-MSE": model_upscaler(weights.load_generator(name))}, {"Set5": load_eval_set(subsets / "Set5")})
    for r in rows:
        assert new["metrics"][f"SRGAN-MSE|Set5|{r['flavour']}"]["psnr"] == pytest.approx(r["psnr"], abs=1e-9)
    assert new["metrics"]["SRResNet|Set5|paper"] == card["metrics"]["SRResNet|Set5|paper"]  # the started-from rows stay
    assert all(v["psnr"] > 20 for k, v in new["metrics"].items())
