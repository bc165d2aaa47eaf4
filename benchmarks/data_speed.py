"""Training data pipeline speed: HR/LR patch pairs per second (issue 3, "Speed").

What one pair costs: pick an image and a random 96 x 96 crop (``default_rng([seed, i])``), a random
flip and rotation, conversion to float, and the LR by antialiased bicubic x4 (section 3.2). The image
set is the seven bundled samples, decoded once and held in memory, as in training.

Rows (one process, ``torch.set_num_threads(1)``):

- ``before``: the first implementation: numpy crop/flip/rot90 + ``ascontiguousarray`` and one
  ``F.interpolate`` per item;
- ``__getitem__``: today's per-item path (a batch of one);
- ``__getitems__ + F.interpolate``: today's batched crops, but ``F.interpolate`` on the batch;
- ``batch()``: batched crops and the batched matrix-product downscale;
- ``__getitems__`` (what the engine's DataLoader uses): ``batch()`` split into pairs, which the
  default collate function stacks again;
- components: crops only (RNG + strided copy), and the degradation alone per method;
- the MATLAB-era numpy resize per patch (``imresize_matlab``; evaluation only), and torch's uint8
  channels-last resize (fastest, but it rounds the LR to 8 bits: not used, shown for scale).

Then whole DataLoaders, built as the training engine builds its own (:func:`engine_loader`, the settings
of ``Trainer.batches``: automatic batching, default collation), with 0, 1 and 2 workers.

"Per core" figures divide by the process's CPU time (``time.process_time``), so they stay
meaningful on a machine shared with other jobs (though contention still slows each CPU second:
caches and memory bandwidth are shared); wall-clock figures are what this machine delivered at the
time. With workers only the wall clock is shown. Goal (issue 3): at least 5000 pairs per second per core.

    python benchmarks/data_speed.py            # about 80 seconds (best of 3 runs of 1.5 s per row)
    SRGAN_QUICK=1 python benchmarks/data_speed.py

With ``--folder DIR`` (issue 14) it measures instead what a GPU run on 2K images gets: pairs/s with
``max(--workers)`` DataLoader workers from a folder of DIV2K-sized images, decoding a PNG per patch
(:class:`srgan_lib.plumbing.image_cache.LazyImages`, what happens when the images do not fit in memory), from images
decoded in memory, and from the prepared memory-mapped file (:func:`srgan_lib.plumbing.image_cache.prepare_images`,
the default for large sets); the preparation's time and peak resident memory (measured in a fresh
process, for a quarter and for all of the images); and a T4's step rate estimated from the FLOPs of
one training step (counted by ``torch.utils.flop_counter``), against which the loaders are read.
``--make-standin DIR`` first writes 24 stand-in images of 2040 x 1356 (Kodak24 or the bundled
photographs, upscaled with PIL's bicubic) there; the output is in ``benchmarks/data_speed.txt``:

    python benchmarks/data_speed.py --make-standin /tmp/div2k-standin --workers 2
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from srgan_lib.data import PatchDataset
from srgan_lib.resize import downscale_patches
from srgan_lib.plumbing.runtime import quick_mode
from srgan_lib.plumbing.samples import SAMPLE_NAMES, load_sample


def engine_loader(ds: Dataset, batch: int, workers: int, batches: int = 10**6) -> DataLoader:
    """A DataLoader as :class:`srgan_lib.train.Trainer` builds one for a single process (``Trainer.batches``):
    automatic batching of ``batch`` consecutive indices per step (its index sampler, here for rank 0 of 1),
    default collation, pinned memory with CUDA, no persistent workers."""
    return DataLoader(ds, batch_size=batch, sampler=range(batches * batch), num_workers=workers,
                      pin_memory=torch.cuda.is_available(), persistent_workers=False, drop_last=False)


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
    ap.add_argument("--folder", type=Path, help="instead: pairs/s from this folder of (2K) images, with "
                    "max(--workers) workers: decode per patch vs in memory vs the prepared memory-mapped file")
    ap.add_argument("--make-standin", type=Path, metavar="DIR", help="first write a stand-in for DIV2K there: "
                    "24 PNGs of 2040x1356 upscaled from Kodak24 (or the bundled samples); implies --folder DIR")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.make_standin:
        make_standin(args.make_standin)
        args.folder = args.make_standin
    if args.folder:
        folder_benchmark(args.folder, args)
        return
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
    row("batch() (batched crops + matmul downscale)", lambda k: ds.batch(range(k * b, (k + 1) * b)), b)
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

    loaders = [(f"engine's DataLoader (default collate), {w} worker(s), batch {b}", w,
                lambda w=w: engine_loader(ds, b, w)) for w in args.workers]
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


# ------------------------------------------------------------------------------------------------
# A folder of 2K images (issue 14): decode per patch vs the prepared memory-mapped file
# ------------------------------------------------------------------------------------------------

#: Realistic share of a T4's 65 TFLOPS fp16 tensor-core peak for these small convolutions (stated assumption).
T4_PEAK_FP16 = 65e12
T4_FRACTIONS = (0.25, 0.35)
#: SRResNet training step on an H200 (batch 16, 96 x 96), launch-bound: benchmarks/train_speed_cuda.txt.
H200_SRRESNET_MS = (10.0, 15.0)


def make_standin(folder: Path, count: int = 24, size: tuple[int, int] = (2040, 1356)) -> list[Path]:
    """``count`` PNGs of DIV2K's typical size (2040 x 1356, portrait ones turned), upscaled with PIL's
    bicubic from Kodak24 (found through the data roots) or, without it, from the bundled samples."""
    from PIL import Image

    from srgan_lib.plumbing.download import DatasetNotFound, find_dataset
    from srgan_lib.plumbing.files import find_images
    from srgan_lib.plumbing.samples import sample_path

    try:
        sources = find_images(find_dataset("Kodak24"))
    except DatasetNotFound:
        sources = [sample_path(n) for n in SAMPLE_NAMES]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(count):
        src = sources[k % len(sources)]
        dest = folder / f"{k + 1:04d}.png"
        if not dest.exists():
            with Image.open(src) as im:
                im = im.convert("RGB")
                wh = size if im.width >= im.height else size[::-1]
                im.resize(wh, Image.BICUBIC).save(dest)
        out.append(dest)
    return out


def step_flops(batch: int = 16, crop: int = 96) -> dict[str, float]:
    """FLOPs of one training step, counted by ``torch.utils.flop_counter`` on the meta device (no compute).

    ``srresnet``: G forward + backward with a pixel loss. ``srgan``: the engine's step: D in one pass on
    real and detached fakes, backward through D; then D on the same mixed batch, VGG19 up to phi_5,4 on SR
    and HR, backward through D, VGG (to its input) and G. Plus each network's forward alone.
    """
    import warnings

    from torch.utils.flop_counter import FlopCounterMode

    from srgan_lib.vgg import VGGFeatures
    from srgan_lib.models import Discriminator, SRResNet

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # VGG with random weights: only its shape matters here
        vgg = VGGFeatures(5, 4, weights="random").to("meta").requires_grad_(False)
    g, d = SRResNet().to("meta"), Discriminator().to("meta")
    lr = torch.rand(batch, 3, crop // 4, crop // 4, device="meta")  # (B, 3, 24, 24)
    hr = torch.rand(batch, 3, crop, crop, device="meta")  # (B, 3, 96, 96)

    def count(fn) -> float:
        with FlopCounterMode(display=False) as fc:
            fn()
        return float(fc.get_total_flops())

    def srresnet() -> None:
        ((g(lr) - hr) ** 2).mean().backward()

    def srgan() -> None:  # one D pass over real + fakes in each update, as train.srgan_step
        sr = g(lr)
        d(torch.cat([hr, sr.detach()])).sum().backward()
        (d(torch.cat([hr, sr]))[batch:].sum() + ((vgg(sr) - vgg(hr)) ** 2).mean()).backward()

    return {"G forward": count(lambda: g(lr)), "D forward": count(lambda: d(hr)),
            "VGG19 to phi54 forward": count(lambda: vgg(hr)), "srresnet": count(srresnet), "srgan": count(srgan)}


def _peak_rss_of(setup: str, code: str) -> tuple[float, float, float]:
    """Resident memory (MiB) of a fresh Python (this repository importable) that runs ``setup`` then
    ``code``: ``(RSS after setup, peak RSS while running code, seconds code took)``; the kernel's
    high-water mark is reset after ``setup`` (``/proc/self/clear_refs``, Linux), so the import of torch
    does not hide the peak."""
    import subprocess
    import sys

    probe = "\n".join([
        setup,
        "def status():",
        "    return {k: int(v.split()[0]) for k, v in (line.split(':', 1) for line in open('/proc/self/status'))",
        "            if k in ('VmRSS', 'VmHWM')}",
        "open('/proc/self/clear_refs', 'w').write('5')  # reset VmHWM to the current RSS",
        "before = status()['VmRSS']",
        "import time; t0 = time.perf_counter()",
        code,
        "print(before, status()['VmHWM'], time.perf_counter() - t0)",
    ])
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    before, peak, seconds = (float(v) for v in out.stdout.split()[-3:])
    return before / 1024, peak / 1024, seconds  # KiB -> MiB


def _loader_rate(loader, seconds: float, repeats: int, warm: int) -> float:
    """Best pairs/s (wall) of ``repeats`` windows of at least ``seconds`` and 3 batches each."""
    it = iter(loader)
    for _ in range(warm):  # start the workers, fill their prefetch queues
        next(it)
    best = 0.0
    for _ in range(repeats):
        n, batches, t0 = 0, 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds or batches < 3:
            lr, hr = next(it)  # (b, 3, c/s, c/s), (b, 3, c, c)
            n, batches = n + lr.shape[0], batches + 1
        best = max(best, n / (time.perf_counter() - t0))
    return best


def folder_benchmark(folder: Path, args: argparse.Namespace) -> None:
    """Pairs/s from a folder of 2K images through DataLoaders with ``--workers`` workers: decoding per
    patch, in memory, and from the prepared memory-mapped file; preparation time and peak memory."""
    import tempfile

    from srgan_lib.plumbing.files import find_images
    from srgan_lib.plumbing.image_cache import prepare_images

    b, c, s, w = args.batch, args.crop, args.scale, max(args.workers)
    files = find_images(folder)
    sizes = [PatchDataset.from_files(files[:1], prepare=False, crop=c).sizes[0]] if files else []
    cache = Path(tempfile.mkdtemp(prefix="srgan-prepared-"))
    setup = (f"from srgan_lib.plumbing.files import find_images\nfrom srgan_lib.plumbing.image_cache import prepare_images\n"
             f"files = find_images({str(folder)!r})")
    few = len(files) // 4
    _, rss_few, _ = _peak_rss_of(setup, f"prepare_images(files[:{few}], {str(cache / 'few')!r}, progress=False)")
    before, rss_all, t_all = _peak_rss_of(setup, f"prepare_images(files, {str(cache / 'all')!r}, progress=False)")
    mapped = prepare_images(files, cache / "all", progress=False)  # re-used: nothing decoded
    total = sum(h * ww * 3 for h, ww in mapped.sizes)
    per_image = t_all / len(files)
    print(f"{len(files)} images of {sizes[0][1]}x{sizes[0][0]} in {folder.name}/: decoded {total / 2**30:.2f} GiB; "
          f"preparation {t_all:.1f} s ({per_image:.2f} s per image: decode + write)", flush=True)
    print(f"RSS: {before:.0f} MiB before preparing (torch and srgan_lib imported); peak while preparing "
          f"{rss_all:.0f} MiB for {len(files)} images (+{rss_all - before:.0f} MiB), {rss_few:.0f} MiB for {few}")
    print(f"extrapolated to DIV2K's 800 images of this size: {800 * total / len(files) / 2**30:.2f} GiB on disk, "
          f"{800 * per_image / 60:.1f} min to prepare at this rate, peak RSS unchanged (one image at a time)",
          flush=True)

    datasets = [
        ("decode per patch (LazyImages, 1 cached image per worker)",
         PatchDataset.from_files(files, prepare=False, max_memory_bytes=0, cache_images=1, crop=c, scale=s)),
        ("in memory (all decoded in the main process, forked)",
         PatchDataset.from_files(files, prepare=False, crop=c, scale=s)),
        ("prepared memory-mapped file (PatchDataset.from_files default)", PatchDataset(mapped, crop=c, scale=s)),
    ]
    rows = []  # (label, pairs/s per core or nan, pairs/s wall)
    for label, ds in datasets:
        slow = ds.store.lazy
        secs, warm = (max(args.seconds, 8.0), 2 * w) if slow else (args.seconds, 4 * w + 2)
        per_core, _ = measure(lambda k: ds.batch(range(k * b, (k + 1) * b)), b, secs, args.repeats)
        rows.append((f"{label}: batch() in this process", per_core, float("nan")))
        engine = engine_loader(ds, b, w)  # the Trainer's settings
        rows.append((f"{label}: Trainer-style loader", float("nan"), _loader_rate(engine, secs, args.repeats, warm)))
        print(f"  measured: {label}", flush=True)
        del engine

    flops = step_flops(b, c)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"\ntorch {torch.__version__}, {os.cpu_count()} CPUs, load average {load[0]:.1f} (1 min) during the run; "
          f"{w} workers, batch {b} of {c}x{c} HR")
    width = max(len(r[0]) for r in rows)
    print(f"{'path':<{width}}  {'pairs/s per core':>16}  {'pairs/s wall':>12}")
    for label, cpu_rate, wall_rate in rows:
        cells = [f"{v:{n},.0f}" if v == v else f"{'-':>{n}}" for v, n in ((cpu_rate, 16), (wall_rate, 12))]
        print(f"{label:<{width}}  {cells[0]}  {cells[1]}")
    print("per core = pairs / CPU seconds of one process (least disturbed by other jobs); wall = through the "
          f"DataLoader with {w} workers, as this machine delivered it during the run")
    print(f"\nFLOPs per step (batch {b}, {c}x{c} HR; torch.utils.flop_counter, 1 multiply-add = 2 FLOPs):")
    for k, v in flops.items():
        print(f"  {k:<24s} {v / 1e9:8.1f} GFLOP")
    lo, hi = (T4_PEAK_FP16 * f for f in T4_FRACTIONS)
    print(f"T4 estimate: {T4_PEAK_FP16 / 1e12:.0f} TFLOPS fp16 peak x {T4_FRACTIONS[0]:.0%}-{T4_FRACTIONS[1]:.0%} = "
          f"{lo / 1e12:.1f}-{hi / 1e12:.1f} TFLOPS, and never faster than the launch-bound floor measured on an "
          f"H200 for the SRResNet step ({H200_SRRESNET_MS[0]:.0f}-{H200_SRRESNET_MS[1]:.0f} ms, "
          "benchmarks/train_speed_cuda.txt; not measured for the SRGAN step):")
    best = next(r for label, _, r in rows if label.startswith("prepared") and "Trainer-style" in label)
    for mode, floor in (("srresnet", H200_SRRESNET_MS), ("srgan", (0.0, 0.0))):
        fast, slow = max(flops[mode] / hi, floor[0] / 1e3), max(flops[mode] / lo, floor[1] / 1e3)  # s per step
        need = 2 * b / fast
        print(f"  {mode:8s} colab preset: FLOP time {flops[mode] / hi * 1e3:4.1f}-{flops[mode] / lo * 1e3:4.1f} ms; "
              f"step {fast * 1e3:4.1f}-{slow * 1e3:4.1f} ms = {1 / slow:5.1f}-{1 / fast:5.1f} steps/s = "
              f"{b / slow:5,.0f}-{b / fast:5,.0f} pairs/s; goal (2x the fast end) {need:5,.0f} pairs/s; "
              f"prepared + Trainer-style loader: {best / need:4.1f}x the goal")
    print(f"  (FLOP-bound alone, the srresnet goal would be {2 * b * hi / flops['srresnet']:,.0f} pairs/s: "
          f"prepared loader {best * flops['srresnet'] / (2 * b * hi):.1f}x that)")
    import shutil

    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
