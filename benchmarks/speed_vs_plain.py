"""Our upscale and training step against a plain-PyTorch loop of the same network, in one process (issue 18).

Three things are timed in interleaved rounds (ours, plain, plain, ours, ...), so that a neighbour on a
shared machine slows both sides alike; medians and minimums are printed:

1. **conv peak**: one 3 x 3, 64 -> 64 convolution (the op that makes up most of SRResNet's trunk) on a
   channels_last ``(1, 64, 256, 256)`` input in inference mode, the fastest this machine runs the network's
   main op. Every other figure is reported as a fraction of it.
2. **upscale**: ``srgan_lib.plumbing.upscale.upscale_array`` (uint8 in, uint8 out, the automatic tile plan) against a
   plain ``model(x)`` in inference mode on a channels_last tensor, the whole image in one pass (no uint8
   conversion, no tiles), x4 of a ``--size`` LR image.
3. **training step**: the engine's ``Trainer.train_step`` (the paper's batch 16 of 96 x 96 HR crops,
   pixel MSE, Adam) against the same step written as a plain loop (``zero_grad``, ``mse_loss``, ``backward``,
   ``step``) on a channels_last model.
4. **the step's convolutions alone**: every convolution of that step at its own shape (recorded from one
   forward), run forward and backward (input and weight gradients, none for the image input) with nothing
   between them: no batch norm, PReLU, shuffles, adds or optimiser. A step cannot be faster than this
   unless the convolution kernels themselves get faster, so it separates "our overhead" from "oneDNN's
   backward kernels at these small (24 x 24 LR) shapes".

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (a multiply-add counts 2) on the very
calls that are timed, so GFLOP/s = counted FLOPs / median seconds.

    python benchmarks/speed_vs_plain.py [--rounds 5] [--size 256] [--threads N] [--dtype bf16]
    # output: benchmarks/speed_vs_plain.txt
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from srgan_lib.models import SRResNet
from srgan_lib.train import TrainConfig, Trainer
from srgan_lib.plumbing.upscale import upscale_array
from srgan_lib.plumbing.weights import load_generator


def flops(fn: Callable[[], object]) -> int:
    """FLOPs that ``fn`` runs, counted by torch."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def rounds(cases: dict[str, Callable[[], object]], n: int) -> dict[str, list[float]]:
    """Seconds per call of each case, ``n`` rounds, the order reversed every other round."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(n):
        for name in names if r % 2 == 0 else reversed(names):
            t0 = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def report(title: str, times: dict[str, list[float]], gflop: float, peak: float | None) -> None:
    print(f"{title}: {gflop:.1f} GFLOP counted")
    for name, ts in times.items():
        med = statistics.median(ts)
        rate = gflop / med
        frac = f"  {rate / peak:5.1%} of the conv peak" if peak else ""
        print(f"  {name:34s} median {med:7.3f} s  min {min(ts):7.3f} s  {rate:6.1f} GFLOP/s{frac}")
    ours, plain = (statistics.median(ts) for ts in times.values())
    print(f"  ours / plain = {ours / plain:.2f}x the time")


def profile(title: str, fn: Callable[[], object], rows: int = 12) -> None:
    """The ops that take the most time in one call of ``fn`` (torch.profiler, self CPU time)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    print(f"profile of one {title} call (self CPU time, top {rows}):")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=40))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--size", type=int, default=256, help="LR side of the image upscaled")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-upscale", action="store_true")
    ap.add_argument("--profile", action="store_true", help="also print where one upscale and one step spend their time")
    ap.add_argument("--dtype", choices=("float32", "bf16"), default="float32",
                    help="precision of the conv peak and both upscales (bf16: what `srgan upscale --precision auto` "
                         "picks on a CPU with AMX; the training step is then skipped)")
    args = ap.parse_args()
    dtype = {"float32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.rounds} interleaved rounds, "
          f"{args.dtype}")

    # 1. the peak: the trunk's conv, channels_last, inference mode
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).to(dtype=dtype, memory_format=torch.channels_last).eval()
    x = torch.rand(1, 64, 256, 256, dtype=dtype).contiguous(memory_format=torch.channels_last)

    def one_conv():
        with torch.inference_mode():
            return conv(x)

    one_conv()
    conv_gflop = flops(one_conv) / 1e9
    conv_t = min(min(rounds({"conv": one_conv}, 3)["conv"]) for _ in range(3))
    peak = conv_gflop / conv_t
    print(f"conv peak: 3x3 64->64 on 1x64x256x256 channels_last: {conv_gflop:.2f} GFLOP in {conv_t * 1e3:.0f} ms "
          f"(best of 9) = {peak:.0f} GFLOP/s")

    if not args.skip_upscale:
        upscale_rounds(args, dtype, peak)
    if args.skip_train or dtype != torch.float32:
        return
    train_rounds(args, peak)


def upscale_rounds(args: argparse.Namespace, dtype: torch.dtype, peak: float) -> None:
    """2. upscale: ours (uint8 -> uint8, tiles planned) against one plain channels_last forward."""
    model = load_generator("srresnet_x4").to(dtype)
    lr_u8 = np.random.default_rng(0).integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)
    plain_model = load_generator("srresnet_x4").to(dtype=dtype, memory_format=torch.channels_last).eval()
    lr_t = torch.from_numpy(lr_u8).permute(2, 0, 1)[None].float().div(255).to(dtype)
    lr_t = lr_t.contiguous(memory_format=torch.channels_last)

    def ours_up():
        return upscale_array(model, lr_u8)

    def plain_up():
        with torch.inference_mode():
            return plain_model(lr_t)

    ours_up(), plain_up()
    up_gflop = flops(plain_up) / 1e9
    report(f"upscale x4 of {args.size}x{args.size} (output {4 * args.size}x{4 * args.size})",
           rounds({"ours: upscale_array": ours_up, "plain: model(x), channels_last": plain_up}, args.rounds),
           up_gflop, peak)
    mp = (4 * args.size) ** 2 / 1e6
    print(f"  ({mp:.2f} output megapixels per call)")
    if args.profile:
        profile("upscale_array", ours_up)


def conv_shapes(net: torch.nn.Module, x: torch.Tensor) -> list[tuple[torch.nn.Conv2d, torch.Size]]:
    """Every Conv2d of ``net`` with the input shape it sees in one forward of ``x``, in call order."""
    seen: list[tuple[torch.nn.Conv2d, torch.Size]] = []
    hooks = [m.register_forward_hook(lambda m, inp, out: seen.append((m, inp[0].shape)))
             for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    return seen


def train_rounds(args: argparse.Namespace, peak: float) -> None:
    """3. training step: the engine's against a plain loop, batch 16 of 96x96 HR (24x24 LR); 4. its convolutions."""
    cfg = TrainConfig(batch_size=16, crop=96, steps=10**6)
    trainer = Trainer(cfg, train_set=[], out_dir="/tmp/srgan_speed_unused", device="cpu", resume=False, progress=False)
    lr = torch.rand(16, 3, 24, 24).contiguous(memory_format=trainer.engine.memory_format)
    hr = (torch.rand(16, 3, 96, 96) * 2 - 1).contiguous(memory_format=trainer.engine.memory_format)
    net = SRResNet().to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4, betas=(0.9, 0.999))

    def ours_step():
        return trainer.train_step(lr, hr)["loss"]

    def plain_step():
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(net(lr), hr)
        loss.backward()
        opt.step()
        return loss

    for _ in range(2):
        ours_step(), plain_step()
    step_gflop = flops(plain_step) / 1e9
    report("training step, batch 16 x 96x96 HR", rounds({"ours: Trainer.train_step": ours_step,
                                                         "plain: zero_grad/mse/backward/step": plain_step},
                                                        args.rounds), step_gflop, peak)
    if args.profile:
        profile("Trainer.train_step", ours_step)

    # 4. the same step's convolutions alone, forward + backward, at their own shapes
    layers = []
    for i, (conv, shape) in enumerate(conv_shapes(net, lr)):
        x = torch.rand(shape).contiguous(memory_format=torch.channels_last).requires_grad_(i > 0)
        grad = torch.rand_like(conv(x)).contiguous(memory_format=torch.channels_last)
        layers.append((conv, x, grad))

    def convs_only():
        for conv, x, grad in layers:
            conv(x).backward(grad)

    def convs_forward():
        with torch.no_grad():
            for conv, x, _ in layers:
                conv(x)

    convs_only(), convs_forward()
    conv_only_gflop, fwd_gflop = flops(convs_only) / 1e9, flops(convs_forward) / 1e9
    times = rounds({"convs": convs_only, "forward": convs_forward, "step": plain_step}, args.rounds)
    c, f, s = (statistics.median(times[k]) for k in ("convs", "forward", "step"))
    print(f"the step's {len(layers)} convolutions alone, forward + backward at their own shapes: "
          f"{conv_only_gflop:.1f} GFLOP in {c:.3f} s median (min {min(times['convs']):.3f} s) = "
          f"{conv_only_gflop / c:.0f} GFLOP/s, {conv_only_gflop / c / peak:.1%} of the conv peak")
    print(f"  of which forward: {fwd_gflop:.1f} GFLOP in {f:.3f} s = {fwd_gflop / f / peak:.1%} of the peak; "
          f"backward (input + weight gradients): {conv_only_gflop - fwd_gflop:.1f} GFLOP in {c - f:.3f} s = "
          f"{(conv_only_gflop - fwd_gflop) / (c - f) / peak:.1%} of the peak")
    print(f"  plain step in the same rounds: {s:.3f} s; the convolutions are {c / s:.0%} of it, "
          f"everything else (BN, PReLU, shuffles, adds, loss, Adam) {1 - c / s:.0%}")


if __name__ == "__main__":
    main()
