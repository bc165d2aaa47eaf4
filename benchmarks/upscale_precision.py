"""Upscaling speed by precision, in output megapixels per second, and what the precision costs (issue 18).

For each precision ``srgan upscale --precision`` offers on the device (float32, and on CUDA bf16 and/or fp16 as the
hardware has them; ``auto`` is named beside the one it picks, :func:`srgan_lib.plumbing.runtime.inference_dtype`), the
shipped ``srresnet_x4`` upscales a ``--size`` x ``--size`` LR crop of a bundled photograph through
``upscale_array`` (uint8 in, uint8 out, the automatic tile plan), timed in interleaved rounds (median and minimum).
Beside the speed: the largest and the mean difference of the saved image from float32's, in grey levels, and
its PSNR against float32's output (how much the half precision changes what a user gets).

    python benchmarks/upscale_precision.py --device cuda [--size 512] [--rounds 5]   # on a GPU
    python benchmarks/upscale_precision.py --device cpu --size 64 --precisions float32 bf16   # the code path on a CPU

Output: benchmarks/upscale_precision.txt.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from srgan_lib.plumbing.runtime import INFERENCE_DTYPES, describe_device, inference_dtype
from srgan_lib.plumbing.samples import load_sample
from srgan_lib.plumbing.upscale import upscale_array
from srgan_lib.plumbing.weights import load_generator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--size", type=int, default=512, help="LR side of the crop upscaled")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--precisions", nargs="*", default=None,
                    help="names to time (default: float32, plus bf16/fp16 where the device runs them natively)")
    args = ap.parse_args()
    device = torch.device(args.device)
    auto = inference_dtype(device, "auto")
    names = args.precisions or (["float32"] + ([n for n, d in INFERENCE_DTYPES.items() if d == auto and n != "float32"]
                                               + (["fp16"] if device.type == "cuda" and auto != torch.float16 else [])))
    photo = load_sample("astronaut")  # (512, 512, 3) uint8
    lr = np.ascontiguousarray(np.tile(photo, (-(-args.size // 512), -(-args.size // 512), 1))[: args.size, : args.size])
    models = {n: load_generator("srresnet_x4", device).to(INFERENCE_DTYPES[n]) for n in names}

    def run(name: str) -> np.ndarray:
        out = upscale_array(models[name], lr)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return out

    outputs = {n: run(n) for n in names}  # warm-up (and the inference copies, made once)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        for n in names if r % 2 == 0 else names[::-1]:
            t = time.perf_counter()
            run(n)
            times[n].append(time.perf_counter() - t)
    mp = (args.size * 4) ** 2 / 1e6
    print(f"torch {torch.__version__}, {describe_device(device)}, {args.rounds} interleaved rounds; "
          f"auto = {str(auto).removeprefix('torch.')}")
    print(f"x4 of a {args.size}x{args.size} LR crop (astronaut, tiled): {mp:.2f} output megapixels per call")
    ref = outputs[names[0]].astype(np.int16)
    for n in names:
        med, best = statistics.median(times[n]), min(times[n])
        diff = np.abs(outputs[n].astype(np.int16) - ref)
        mse = float(np.mean(diff.astype(np.float64) ** 2))
        psnr = "identical" if mse == 0 else f"{10 * np.log10(255**2 / mse):.1f} dB"
        tag = " (auto)" if INFERENCE_DTYPES[n] == auto else ""
        print(f"  {n + tag:16s} median {med:7.3f} s  min {best:7.3f} s  {mp / med:7.2f} MP/s   vs {names[0]}: "
              f"max {int(diff.max())} levels, mean {diff.mean():.3f}, PSNR {psnr}")


if __name__ == "__main__":
    main()
