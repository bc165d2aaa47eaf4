"""The two training steps notebook 05 runs on Colab, timed at the `colab` presets' settings (issue 25, item 10).

For SRResNet (`srresnet/colab`: pixel MSE) and SRGAN-VGG54 (`srgan/colab`: VGG54 content loss, D and G in turns),
in each precision the device offers (CUDA: bf16 where native, fp16 with the engine's GradScalers, float32; CPU:
float32, and bf16 where AMX makes it native), through the engine's own step and a real DataLoader over
`PatchDataset` (the preset's batch, crop and worker count):

- s/step: the median step (forward, backward, optimiser) after a warm-up, synchronised;
- data wait: the median time the loop waits for the next batch (DataLoader + copy to the device);
- peak memory: `torch.cuda.max_memory_allocated` (CUDA) or the process's max RSS (CPU);
- GFLOP/step: counted by `torch.utils.flop_counter.FlopCounterMode` on one step, so that a figure measured here can
  be scaled to another GPU by its sustained throughput (printed for a T4 at an assumed sustained rate, stated).

The VGG19's weights do not change the step's cost: the ImageNet weights are used when cached, else random weights
(allowed here because nothing is trained for its result). The data are the bundled photographs unless `--data`
names a folder.

    python benchmarks/colab_steps.py --device cuda                 # the measurement issue 25 asks for
    python benchmarks/colab_steps.py --device cpu --batch 2 --crop 48 --steps 3 --warmup 1   # a smoke run
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from srgan_lib.data import PatchDataset
from srgan_lib.images import unit_to_model
from srgan_lib.plumbing.runtime import cpu_has_native_bf16
from srgan_lib.plumbing.samples import load_sample
from srgan_lib.train import Trainer, preset
from srgan_lib.plumbing.vgg_weights import VGGWeightsUnavailable, load_vgg19_state_dict

T4_SUSTAINED_TFLOPS = 20.0  # assumed: a T4's fp16 tensor cores sustain about a third of their 65 TFLOP/s on convolutions


def precisions(device: torch.device) -> list[tuple[str, torch.dtype | None]]:
    """The precisions worth timing on ``device``: (name, autocast dtype or None for float32)."""
    if device.type == "cuda":
        rows = [("fp16", torch.float16), ("float32", None)]
        if tuple(torch.cuda.get_device_capability(device)) >= (8, 0):
            rows.insert(0, ("bf16", torch.bfloat16))
        return rows
    return [("float32", None)] + ([("bf16", torch.bfloat16)] if cpu_has_native_bf16() else [])


def vgg_weights() -> str:
    """``imagenet`` when the pretrained VGG19 is cached or downloadable, else ``random`` (same cost per step)."""
    try:
        load_vgg19_state_dict(progress=False)
        return "imagenet"
    except VGGWeightsUnavailable:
        return "random"


def measure(mode: str, name: str, dtype: torch.dtype | None, args: argparse.Namespace, images: list) -> dict:
    """Time ``args.steps`` steps of ``mode`` in precision ``dtype``; the figures of one row."""
    overrides = dict(steps=10**6, log_every=10**6, val_every=10**6, ckpt_every=10**6, amp=dtype is not None,
                     cpu_bf16=dtype is torch.bfloat16)
    for key in ("batch_size", "crop", "num_workers"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if mode == "srgan":
        weights = vgg_weights()
        overrides.update(vgg_weights=weights, allow_random_vgg=weights == "random")  # G starts from srresnet_x4
    config = preset(mode, "colab", **overrides)
    data = PatchDataset(images, crop=config.crop, scale=config.scale, seed=0)
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(config, data, out, device=args.device, resume=False, progress=False)
        engine = trainer.engine
        engine.amp_dtype = dtype  # the precision under test, whatever the device's default
        engine.scalers = {n: torch.amp.GradScaler("cuda", enabled=dtype is torch.float16) for n in engine.scalers}
        step = trainer.train_step  # train.srgan_step or train.srresnet_step, as fit calls it
        loader = torch.utils.data.DataLoader(data, batch_size=config.batch_size, num_workers=config.num_workers,
                                             pin_memory=engine.device.type == "cuda")
        batches = iter(loader)
        dev = engine.device

        def sync() -> None:
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)

        def next_batch() -> tuple[torch.Tensor, torch.Tensor]:
            lr, hr = next(batches)  # (B, 3, crop/4, crop/4), (B, 3, crop, crop) in [0, 1]
            lr = lr.to(dev, non_blocking=True).contiguous(memory_format=engine.memory_format)
            hr = unit_to_model(hr.to(dev, non_blocking=True)).contiguous(memory_format=engine.memory_format)  # [-1, 1]
            return lr, hr

        for _ in range(args.warmup):
            step(*next_batch())
        sync()
        with FlopCounterMode(display=False) as counter:
            step(*next_batch())
        sync()
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        waits, steps = [], []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            batch = next_batch()
            sync()
            t1 = time.perf_counter()
            step(*batch)
            sync()
            waits.append(t1 - t0)
            steps.append(time.perf_counter() - t1)
        peak = (torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda"
                else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"step": statistics.median(steps), "wait": statistics.median(waits), "peak_mib": peak,
            "gflop": counter.get_total_flops() / 1e9, "config": config}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", dest="batch_size", type=int, default=None, help="default: the colab preset's (16)")
    ap.add_argument("--crop", type=int, default=None, help="default: the colab preset's (96)")
    ap.add_argument("--workers", dest="num_workers", type=int, default=None, help="default: the colab preset's (2)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--modes", nargs="+", default=["srresnet", "srgan"], choices=["srresnet", "srgan"])
    args = ap.parse_args()
    device = torch.device(args.device)
    images = [load_sample(n) for n in ("chelsea", "rocket", "brick", "grass", "gravel")]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(f"colab presets' training steps on {name}, torch {torch.__version__}; median of {args.steps} steps after "
          f"{args.warmup} warm-up steps")
    print(f"{'step':<22}{'precision':<10}{'batch x crop':>13}{'s/step':>9}{'data wait':>11}{'peak MiB':>10}"
          f"{'GFLOP':>8}{'T4 s/step*':>12}")
    for mode in args.modes:
        label = "SRResNet (MSE)" if mode == "srresnet" else "SRGAN-VGG54 (G + D)"
        for prec, dtype in precisions(device):
            r = measure(mode, prec, dtype, args, images)
            c = r["config"]
            print(f"{label:<22}{prec:<10}{f'{c.batch_size} x {c.crop}':>13}{r['step']:>9.4f}{r['wait']:>11.4f}"
                  f"{r['peak_mib']:>10.0f}{r['gflop']:>8.0f}{r['gflop'] / (T4_SUSTAINED_TFLOPS * 1e3):>12.3f}",
                  flush=True)
    print(f"* T4 s/step: the counted GFLOP at an assumed {T4_SUSTAINED_TFLOPS:.0f} TFLOP/s sustained in fp16, an estimate "
          "to compare with a real T4 run, not a measurement")


if __name__ == "__main__":
    main()
