"""Training speed of the paper's SRResNet: steps per second and peak memory, each option on and off.

Batch 16 of 96 x 96 HR crops (24 x 24 LR), the paper's setting (section 3.2), through the real engine
step (``Trainer.train_step``). Each configuration runs in its own subprocess so that its peak
memory (max RSS on CPU, max allocated on CUDA) is its own.

    python benchmarks/train_speed.py                 # CPU: channels_last, torch.compile on/off
    python benchmarks/train_speed.py --device cuda   # adds AMP (bf16 or fp16) on/off
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time, torch
from srgan_lib.train import TrainConfig, Trainer
opts = json.loads(sys.argv[1])
cfg = TrainConfig(batch_size=opts["batch"], crop=opts["crop"], steps=10**6, amp=opts["amp"],
                  channels_last=opts["channels_last"], compile=opts["compile"])
t = Trainer(cfg, train_set=[], out_dir="/tmp/srgan_bench_unused", device=opts["device"], resume=False,
            progress=False)
dev = t.device
lr = torch.rand(cfg.batch_size, 3, cfg.crop // 4, cfg.crop // 4, device=dev).contiguous(memory_format=t.engine.memory_format)
hr = (torch.rand(cfg.batch_size, 3, cfg.crop, cfg.crop, device=dev) * 2 - 1).contiguous(memory_format=t.engine.memory_format)
def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()
for _ in range(opts["warmup"]):
    t.train_step(lr, hr)
sync()
if dev.type == "cuda":
    torch.cuda.reset_peak_memory_stats()
t0 = time.perf_counter()
for _ in range(opts["steps"]):
    out = t.train_step(lr, hr)
sync()
dt = (time.perf_counter() - t0) / opts["steps"]
peak = (torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps({"sec_per_step": dt, "peak_mib": peak, "loss": float(out["loss"])}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows (slow to build)")
    args = ap.parse_args()
    import torch

    print(f"SRResNet training step, batch {args.batch} x {args.crop}x{args.crop} HR, device {args.device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'amp':>5} {'channels_last':>13} {'compile':>7} {'s/step':>8} {'steps/s':>8} {'peak MiB':>9}  note",
          flush=True)
    amps = [False, True] if args.device.startswith("cuda") else [False]
    for amp in amps:
        for cl in (False, True):
            for comp in (False,) if args.no_compile else (False, True):
                opts = dict(device=args.device, batch=args.batch, crop=args.crop, steps=args.steps,
                            warmup=args.warmup + (3 if comp else 0), amp=amp, channels_last=cl, compile=comp)
                t0 = time.perf_counter()
                res = subprocess.run([sys.executable, "-c", CHILD, json.dumps(opts)], capture_output=True, text=True)
                head = f"{amp!s:>5} {cl!s:>13} {comp!s:>7}"
                if res.returncode != 0:  # each row is printed as soon as it is measured
                    line = (res.stderr.strip().splitlines() or ["?"])[-1]
                    print(f"{head} {'failed':>8} {'':>8} {'':>9}  {line[:60]}", flush=True)
                    continue
                out = json.loads(res.stdout.strip().splitlines()[-1])
                dt, peak = out["sec_per_step"], out["peak_mib"]
                print(f"{head} {dt:8.4f} {1 / dt:8.2f} {peak:9.0f}  {time.perf_counter() - t0:.0f} s total", flush=True)


if __name__ == "__main__":
    main()
