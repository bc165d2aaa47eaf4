"""Training data pipeline speed: HR/LR patch pairs per second (issue 3, "Speed").

What one pair costs: pick an image and a random 96 x 96 crop (``default_rng([seed, i])``), a random
flip and rotation, conversion to float, and the LR by antialiased bicubic x4 (section 3.2). The image
set is the seven bundled samples, decoded once and held in memory, as in training.

Rows (one process, ``torch.set_num_threads(1)``):

- ``before``: the first implementation: numpy crop/flip/rot90 + ``ascontiguousarray`` and one
  ``F.interpolate`` per item;
- ``__getitem__``: today's per-item path (a batch of one);
- ``__getitems__ + F.interpolate``: today's batched crops, but ``F.interpolate`` on the batch;
- ``batch()`` (**what** ``make_loader`` **uses**): batched crops and the batched matrix-product downscale;
- ``__getitems__`` (what the engine's DataLoader uses): ``batch()`` split into pairs, which the
  default collate function stacks again;
- components: crops only (RNG + strided copy), and the degradation alone per method;
- the MATLAB-era numpy resize per patch (``imresize_matlab``; evaluation only), and torch's uint8
  channels-last resize (fastest, but it rounds the LR to 8 bits: not used, shown for scale).

Then whole DataLoaders: ``make_loader`` with 0, 1 and 2 workers, and the engine's kind (automatic
batching, default collation) with 0 workers.

"Per core" figures divide by the process's CPU time (``time.process_time``), so they stay
meaningful on a machine shared with other jobs (though contention still slows each CPU second:
caches and memory bandwidth are shared); wall-clock figures are what this machine delivered at the
time. With workers only the wall clock is shown. Goal (issue 3): at least 5000 pairs per second per core.

    python benchmarks/data_speed.py            # about 80 seconds (best of 3 runs of 1.5 s per row)
    SRGAN_QUICK=1 python benchmarks/data_speed.py
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F

from srgan_lib.data import SAMPLE_NAMES, PatchDataset, downscale_patches, load_sample, make_loader
from srgan_lib.runtime import quick_mode


def measure(step, pairs_per_call: int, seconds: float, repeats: int) -> tuple[float, float]:
    """Call ``step(k)`` for ``seconds`` of wall time, ``repeats`` times; returns the best
    (pairs/s per CPU second, pairs/s wall): on a shared machine the best run is the least disturbed."""
    step(0)  # warm up (lazy caches, first-call overheads)
    best_cpu = best_wall = 0.0
    k = 1
    for _ in range(repeats):
        n = 0
        c0, t0 = time.process_time(), time.perf_counter()
        while True:
            step(k)
            k += 1
            n += pairs_per_call
            wall = time.perf_counter() - t0
            if wall >= seconds:
                break
        cpu = time.process_time() - c0
        best_cpu, best_wall = max(best_cpu, n / max(cpu, 1e-9)), max(best_wall, n / wall)
    return best_cpu, best_wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=0.3 if quick_mode() else 1.5, help="per measurement")
    ap.add_argument("--repeats", type=int, default=1 if quick_mode() else 3, help="best of this many")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--workers", type=int, nargs="*", default=[0, 1, 2])
    args = ap.parse_args()
    torch.set_num_threads(1)
    b, c, s, secs = args.batch, args.crop, args.scale, args.seconds

    images = [load_sample(n) for n in SAMPLE_NAMES]
    ds = PatchDataset(images, crop=c, scale=s, seed=0)
    rows: list[tuple[str, float, float | None]] = []

    def row(label: str, step, per_call: int) -> None:
        cpu_rate, wall_rate = measure(step, per_call, secs, args.repeats)
        rows.append((label, cpu_rate, wall_rate))
        print(f"  measured: {label}", flush=True)

    def before(k: int) -> None:  # the original per-item __getitem__
        hr = torch.from_numpy(ds.hr_patch(k)).permute(2, 0, 1).float().div_(255.0)  # (3, c, c)
        F.interpolate(hr[None], scale_factor=1 / s, mode="bicubic", antialias=True,
                      align_corners=False)[0].clamp_(0, 1)  # (3, c/s, c/s)

    def batched_interpolate(k: int) -> None:
        hr = ds.hr_patches(range(k * b, (k + 1) * b)).float().div_(255.0)  # (b, 3, c, c)
        F.interpolate(hr, size=(c // s, c // s), mode="bicubic", antialias=True).clamp_(0, 1)

    print(f"pipeline: {c}x{c} HR crops + flips/rotations + bicubic x{s} LR; batch {b}; "
          f"{len(images)} in-memory images ({', '.join(SAMPLE_NAMES)})", flush=True)
    row("before: per item, numpy crop + F.interpolate", before, 1)
    row("__getitem__ (per item, today)", lambda k: ds[k], 1)
    row("__getitems__ + F.interpolate on the batch", batched_interpolate, b)
    row("batch() (batched crops + matmul downscale) <- make_loader", lambda k: ds.batch(range(k * b, (k + 1) * b)), b)
    row("__getitems__ = batch() + unbind <- engine's DataLoader",
        lambda k: ds.__getitems__(range(k * b, (k + 1) * b)), b)
    row("  component: crops only (RNG, crop, flip/rot, CHW)", lambda k: ds.hr_patches(range(k * b, (k + 1) * b)), b)

    hr_batch = ds.hr_patches(range(b)).float().div_(255.0)  # (b, 3, c, c)
    row("  component: degrade only, batched matmul", lambda k: downscale_patches(hr_batch, s), b)
    row("  component: degrade only, batched F.interpolate",
        lambda k: F.interpolate(hr_batch, size=(c // s, c // s), mode="bicubic", antialias=True), b)
    row("  component: degrade only, F.interpolate per patch",
        lambda k: F.interpolate(hr_batch[k % b : k % b + 1], size=(c // s, c // s), mode="bicubic",
                                antialias=True), 1)
    hr_u8 = ds.hr_patches(range(b)).contiguous(memory_format=torch.channels_last)  # (b, 3, c, c) uint8
    row("  reference: torch uint8 channels-last resize (rounds LR)",
        lambda k: F.interpolate(hr_u8, size=(c // s, c // s), mode="bicubic", antialias=True), b)
    try:
        from srgan_lib.resize import imresize_matlab

        patches = [ds.hr_patch(i) for i in range(b)]
        row("  reference: MATLAB-era numpy resize per patch (eval only)",
            lambda k: imresize_matlab(patches[k % b], 1 / s), 1)
    except ImportError:
        print("  (srgan_lib.resize.imresize_matlab not available: MATLAB row skipped)")

    from torch.utils.data import DataLoader

    loaders = [(f"make_loader, {w} worker(s), batch {b}", w, lambda w=w: make_loader(ds, b, w, steps=10**6))
               for w in args.workers]
    loaders.insert(1, ("engine-style DataLoader (default collate), 0 workers", 0,
                       lambda: DataLoader(ds, batch_size=b, sampler=range(10**7))))
    for label, w, build in loaders:
        loader = build()
        it = iter(loader)
        for _ in range(3 if w == 0 else 4 * w + 2):  # start the workers, fill their prefetch queues
            next(it)
        per_core, best_wall = 0.0, 0.0
        for _ in range(args.repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            n = 0
            while time.perf_counter() - t0 < secs:
                lr, hr = next(it)  # (b, 3, c/s, c/s), (b, 3, c, c)
                n += lr.shape[0]
            wall = time.perf_counter() - t0
            per_core = max(per_core, n / max(time.process_time() - c0, 1e-9))
            best_wall = max(best_wall, n / wall)
        # Per core only without workers: a worker's CPU time is not separable from its start-up and
        # the batches it prefetched beyond the measurement.
        del it, loader
        rows.append((label, per_core if w == 0 else float("nan"), best_wall))
        print(f"  measured: {label}", flush=True)

    print()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"torch {torch.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {load[0]:.1f} (1 min) during the run")
    width = max(len(r[0]) for r in rows)
    print(f"{'path':<{width}}  {'pairs/s per core':>16}  {'pairs/s wall':>12}  {'vs goal':>8}")
    print("-" * (width + 44))
    for label, cpu_rate, wall_rate in rows:
        goal = f"{cpu_rate / 5000:7.2f}x" if cpu_rate == cpu_rate else "       -"
        cpu_txt = f"{cpu_rate:16,.0f}" if cpu_rate == cpu_rate else f"{'n/a':>16}"
        print(f"{label:<{width}}  {cpu_txt}  {wall_rate:12,.0f}  {goal}")
    print(f"\nbest of {args.repeats} runs of {secs} s per row. per core = pairs / CPU seconds of this process;"
          " wall = pairs / elapsed seconds.")
    print("goal (issue 3): >= 5000 pairs/s per core for 96x96 crops with flips and degradation.")


if __name__ == "__main__":
    main()
