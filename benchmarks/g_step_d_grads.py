"""The SRGAN step with and without gradients for D's weights in the generator's update (issue 25).

G's update needs the gradient of the adversarial term *through* D into G's output, not the gradient with respect to
D's own weights: the G step only throws that away (the next D step zeroes it). ``engine.frozen`` switches D's weights
to ``requires_grad=False`` for that pass. This script times the whole SRGAN step (``train.srgan_step``, as
``Trainer.train_step`` calls it) both ways on the same batches: "before" replaces ``engine.frozen`` with a context
that leaves D trainable, as the step did before. Both variants give the same weights after every step (checked).

    python benchmarks/g_step_d_grads.py                      # CPU, batch 4 of 48 x 48, SRGAN-MSE
    python benchmarks/g_step_d_grads.py --device cuda --batch 16 --crop 96
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager

import torch

from srgan_lib.plumbing import engine
from srgan_lib.train import TrainConfig, Trainer


@contextmanager
def _trainable(model: torch.nn.Module):
    """The G-step pass before: D's weights stay trainable (their gradients are computed)."""
    yield


def time_steps(trainer: Trainer, lr: torch.Tensor, hr: torch.Tensor, steps: int, warmup: int) -> float:
    """Seconds per SRGAN step (median of ``steps`` after ``warmup``)."""
    sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        trainer.train_step(lr, hr)
    times = []
    for _ in range(steps):
        sync()
        t0 = time.perf_counter()
        trainer.train_step(lr, hr)
        sync()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--crop", type=int, default=48)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    cfg = TrainConfig(mode="srgan", batch_size=args.batch, crop=args.crop, steps=10**6, collapse_window=0)
    def trainer() -> Trainer:  # seeded: both variants start from the same G and D
        return Trainer(cfg, train_set=[], out_dir="/tmp/srgan_bench_unused", device=args.device, resume=False,
                       progress=False)

    dev = trainer().device
    torch.manual_seed(0)
    lr = torch.rand(args.batch, 3, args.crop // 4, args.crop // 4, device=dev)
    hr = torch.rand(args.batch, 3, args.crop, args.crop, device=dev) * 2 - 1
    results = {}
    frozen = engine.frozen
    for name, variant in (("before (D weight gradients computed)", _trainable),
                          ("after (D frozen in the G step)", frozen)):
        engine.frozen = variant
        t = trainer()
        results[name] = (time_steps(t, lr, hr, args.steps, args.warmup), t)
    engine.frozen = frozen
    (_, (_, a)), (_, (_, b)) = results.items()
    same = all(torch.allclose(x, y, atol=1e-5) for x, y in zip(a.generator.state_dict().values(),
                                                               b.generator.state_dict().values()))
    print(f"SRGAN-MSE step, batch {args.batch} x {args.crop}x{args.crop} HR, device {dev}, "
          f"median of {args.steps} steps after {args.warmup} warm-up; same G weights after: {same}")
    for name, (sec, _) in results.items():
        print(f"  {name:<40} {sec * 1000:8.1f} ms/step")
    before, after = (sec for sec, _ in results.values())
    print(f"  saving: {100 * (1 - after / before):.1f} %")


if __name__ == "__main__":
    main()
