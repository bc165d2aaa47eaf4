"""One discriminator pass over real + fake, or two (one per kind)? Measured on a short SRGAN-MSE run.

The paper (section 2.2.2, Figure 4) does not say how D's batch normalisation sees the two kinds of
images. Two common choices:

- **two passes** ``D(hr)`` and ``D(sr.detach())``: each pass is normalised by the statistics of one kind
  only (the DCGAN-era advice "real-only and fake-only mini-batches"; sgrvinod, BasicSR, Lornatang);
- **one pass** ``D(cat([hr, sr.detach()]))``: batch statistics over both kinds, as the running statistics
  (and so eval mode) will be.

This script trains both from the shipped SRResNet with the same seed, batches and step (written out by
hand, the same updates as ``train.srgan_step``), and prints per checkpoint: D's training accuracy,
D's accuracy on held-out patches (in train mode on single-kind batches, as the G step uses it, and in
eval mode), and the generator's Set5 PSNR ("paper" flavour) against bicubic. The generator's BN is frozen
(``freeze_bn``) so that G's own statistics are not part of the comparison.

    python benchmarks/d_passes.py [--steps 150] [--batch 8] [--crop 64]  # output: benchmarks/d_passes.txt
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from srgan_lib.plumbing import weights
from srgan_lib.data import PatchDataset, load_eval_set
from srgan_lib.plumbing.evaluate import bicubic_upscaler, evaluate, model_upscaler
from srgan_lib.images import unit_to_model
from srgan_lib.losses import discriminator_loss, generator_adversarial_loss
from srgan_lib.models import Discriminator
from srgan_lib.plumbing.runtime import seed_everything
from srgan_lib.plumbing.samples import load_sample

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"


def d_logits(d: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, one_pass: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """D's logits for a real and a fake batch: one forward pass over both, or one per kind."""
    if one_pass:
        return d(torch.cat([real, fake])).split(len(real))  # (N,), (N,)
    return d(real), d(fake)


def run(one_pass: bool, args: argparse.Namespace, train: PatchDataset, held_out: tuple[torch.Tensor, torch.Tensor],
        set5) -> list[dict]:
    seed_everything(args.seed)
    g = weights.load_generator("srresnet_x4")
    g.train()
    for m in g.modules():  # freeze_bn: G's BN keeps its trained running statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()
    d = Discriminator().train()
    opt_g = torch.optim.Adam(g.parameters(), lr=args.lr, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=args.lr, betas=(0.9, 0.999))
    warm = lambda s: min(1.0, (s + 1) / args.warmup)  # noqa: E731  the engine's linear warm-up
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, warm)
    sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, warm)
    lr_ho, hr_ho = held_out
    rows, accs = [], []

    def checkpoint(step: int) -> None:
        g.eval()
        p = evaluate({"G": model_upscaler(g)}, {"Set5": set5}, flavours=("paper",))[0]["psnr"]
        with torch.no_grad():
            fake_ho = g(lr_ho).clamp(-1, 1)
            real_ho = unit_to_model(hr_ho)
            d.train()  # single-kind batches in train mode, as G's update sees D
            tr = 0.5 * ((d(real_ho) > 0).float().mean() + (d(fake_ho) < 0).float().mean()).item()
            d.eval()
            ev = 0.5 * ((d(real_ho) > 0).float().mean() + (d(fake_ho) < 0).float().mean()).item()
            d.train()
        g.train()
        for m in g.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.eval()
        rows.append({"step": step, "train_acc": float(np.mean(accs[-25:])) if accs else float("nan"),
                     "held_train_mode": tr, "held_eval_mode": ev, "set5_psnr": p})
        print(f"  {'one' if one_pass else 'two'} pass  step {step:4d}  D train acc {rows[-1]['train_acc']:.3f}  "
              f"held-out acc (train-mode BN) {tr:.3f}  (eval-mode BN) {ev:.3f}  Set5 {p:.2f} dB", flush=True)

    checkpoint(0)
    for step in range(1, args.steps + 1):
        lr, hr = train.batch(range((step - 1) * args.batch, step * args.batch))  # the same batches for both
        hr = unit_to_model(hr)  # (N, 3, crop, crop) in [-1, 1]
        sr = g(lr)  # (N, 3, crop, crop)
        real_logits, fake_logits = d_logits(d, hr, sr.detach(), one_pass)
        d_loss = discriminator_loss(real_logits, fake_logits)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        # G's update through the just-updated D; in the one-pass variant D sees the same mixed batch.
        gen_logits = d_logits(d, hr, sr, True)[1] if one_pass else d(sr)
        g_loss = torch.nn.functional.mse_loss(sr, hr) + 1e-3 * generator_adversarial_loss(gen_logits)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        sched_g.step()
        sched_d.step()
        accs.append(0.5 * ((real_logits > 0).float().mean() + (fake_logits < 0).float().mean()).item())
        if step % args.every == 0:
            checkpoint(step)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if (SHARED / "Kodak24").is_dir():
        train = PatchDataset.from_folder(SHARED / "Kodak24", crop=args.crop, seed=args.seed)
        set5 = load_eval_set(SHARED / "Set5")
        held = PatchDataset.from_folder(SHARED / "BSD100", crop=args.crop, seed=args.seed + 1, augment=False)
        source = "Kodak24 (train), BSD100 patches (held out), Set5"
    else:
        names = ["chelsea", "rocket"]
        train = PatchDataset([load_sample(n) for n in names], crop=args.crop, seed=args.seed, names=names)
        hr = load_sample("astronaut")
        from srgan_lib.data import EvalSet
        from srgan_lib.resize import matlab_lr

        set5 = EvalSet([("astronaut", matlab_lr(hr, 4), hr)], name="astronaut")
        held = PatchDataset([load_sample("coffee")], crop=args.crop, seed=args.seed + 1, augment=False)
        source = "bundled samples (../shared/datasets absent)"
    held_out = held.batch(range(64))  # 64 held-out patches: (64, 3, crop/4, crop/4), (64, 3, crop, crop)
    bic = evaluate({"bicubic": bicubic_upscaler(4)}, {"Set5": set5}, flavours=("paper",))[0]["psnr"]
    print(f"D one pass vs two passes: {args.steps} SRGAN-MSE steps from srresnet_x4 (G's BN frozen), batch "
          f"{args.batch} x {args.crop}x{args.crop}, lr {args.lr:g} (warm-up {args.warmup}), seed {args.seed}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; data: {source}")
    print(f"bicubic on the PSNR set: {bic:.2f} dB (paper flavour)")
    t0 = time.perf_counter()
    results = {}
    for one_pass in (False, True):
        results[one_pass] = run(one_pass, args, train, held_out, set5)
    print(f"\nsummary ({time.perf_counter() - t0:.0f} s):")
    print(f"{'step':>5}  {'D train acc 2p/1p':>18}  {'held-out (train BN) 2p/1p':>26}  {'held-out (eval BN) 2p/1p':>25}  "
          f"{'Set5 dB 2p/1p':>14}")
    for a, b in zip(results[False], results[True]):
        print(f"{a['step']:5d}  {a['train_acc']:8.3f} /{b['train_acc']:6.3f}  {a['held_train_mode']:14.3f} /"
              f"{b['held_train_mode']:6.3f}  {a['held_eval_mode']:13.3f} /{b['held_eval_mode']:6.3f}  "
              f"{a['set5_psnr']:7.2f} /{b['set5_psnr']:6.2f}")


if __name__ == "__main__":
    main()
