"""Notebook 05's 300-step CPU run at three adversarial weights: where does each land on Set14?

The measured answer to notebook 05's Exercise 1. Each run is exactly §3's ``cpu`` configuration of
``notebooks/05_srgan_training_and_results.ipynb`` (SRGAN-MSE, ``preset("srgan", "cpu", ...)`` with the
notebook's overrides: 300 steps, ``ema_decay=0.99``, ``warmup_steps=30``, ``val_every=50``,
``collapse_window=0``; G from ``srresnet_x4``; seed 0; the two bundled photographs of
``training_images(None, download=False)``; validation on the same astronaut crop), with only
``adversarial_weight`` changed: 10⁻³ (the paper's, equation 3), 5 × 10⁻³ (the ``cpu`` preset's, the
notebook's own run) and 10⁻². Each exported generator (G's moving average) is scored on Set14 as §4 and
§8 score it (``srgan_lib.plumbing.evaluate.evaluate``, "paper" flavour): PSNR, NIQE and the grid score, beside
bicubic and SRResNet.

Set14 is looked for in the data roots (``load_eval_set("Set14", download=False)``: ``$SRGAN_DATA``,
``~/.cache/srgan``, ``../shared/datasets``); without it the script says so and stops.

    OMP_NUM_THREADS=1 python benchmarks/short_run_weight.py [--weights 1e-3 5e-3 1e-2] [--steps 300]
    # output: benchmarks/short_run_weight.txt
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import torch

from srgan_lib.plumbing import weights
from srgan_lib.data import load_eval_set, to_val_pairs
from srgan_lib.plumbing.download import DatasetNotFound
from srgan_lib.plumbing.evaluate import bicubic_upscaler, evaluate, model_upscaler
from srgan_lib.resize import matlab_lr
from srgan_lib.plumbing.runs import start_run
from srgan_lib.plumbing.samples import load_sample
from srgan_lib.train import preset
from srgan_lib.plumbing.train_data import training_images


def notebook_config(adversarial_weight: float, steps: int):
    """§3's ``cpu`` configuration of notebook 05 (cell "overrides"), at another adversarial weight."""
    return preset("srgan", "cpu", content="mse", vgg_weights="random", init_generator="srresnet_x4",
                  allow_random_vgg=False, steps=steps, ema_decay=0.99, warmup_steps=30, log_every=10,
                  val_every=50, ckpt_every=50, collapse_window=0, adversarial_weight=adversarial_weight)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=float, nargs="+", default=[1e-3, 5e-3, 1e-2])
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    try:
        set14 = load_eval_set("Set14", download=False)
    except DatasetNotFound:
        raise SystemExit("Set14 is not in any data root ($SRGAN_DATA, ~/.cache/srgan, ../shared/datasets): "
                         "this benchmark scores on it, so there is nothing to measure here") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the toy-data warning: the notebook's run trains on the two photographs
        images = training_images(None, download=False)
    astro = load_sample("astronaut")[64:192, 160:288]  # (128, 128, 3): the notebook's validation crop
    val_pairs = to_val_pairs([("astronaut face", matlab_lr(astro, 4), astro)])
    print(f"notebook 05, §3's cpu run (SRGAN-MSE from srresnet_x4, {args.steps} steps, seed 0) at "
          f"{len(args.weights)} adversarial weights; training data: {images.summary.split(':')[0]} "
          f"({len(images)} photographs); Set14, paper flavour; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    rows = evaluate({"bicubic": bicubic_upscaler(4),
                     "SRResNet": model_upscaler(weights.load_generator("srresnet_x4").eval())},
                    {"Set14": set14}, flavours=("paper",))
    labels = {r["method"]: r["method"] for r in rows}
    t0 = time.perf_counter()
    for w in args.weights:
        config = notebook_config(w, args.steps)
        train_set = images.patch_dataset(crop=config.crop, seed=0, progress=False)
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer, _ = start_run(config, train_set, tmp, fresh=True, val_pairs=val_pairs, device="cpu",
                                   progress=False)
            t = time.perf_counter()
            history = trainer.fit()
            train_s = time.perf_counter() - t
            g = trainer.eval_generator.eval()  # G's moving average, as the notebook exports it
            name = f"SRGAN-MSE, weight {w:g}"
            row = evaluate({name: model_upscaler(g)}, {"Set14": set14}, flavours=("paper",))[0]
        acc = [h["d_acc"] for h in history if "d_acc" in h][-1]
        rows.append(row)
        labels[name] = f"{name} ({args.steps} steps, {train_s:.0f} s, last D acc {acc:.2f})"
        print(f"  weight {w:g}: trained in {train_s:.0f} s; Set14 {row['psnr']:.2f} dB, NIQE {row['niqe']:.2f}, "
              f"grid {row['grid']:.2f}", flush=True)
    print(f"\nSet14 means, paper flavour ({time.perf_counter() - t0:.0f} s for the runs)")
    print(f"{'method':64s} {'PSNR dB':>8s} {'NIQE':>6s} {'grid':>6s}")
    for r in rows:
        print(f"{labels[r['method']]:64s} {r['psnr']:8.2f} {r['niqe']:6.2f} {r['grid']:6.2f}")


if __name__ == "__main__":
    main()
