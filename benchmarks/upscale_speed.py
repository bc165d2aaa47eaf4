"""Speed and peak memory of ``srgan upscale`` on the CPU (issue 8): x4 with the paper's SRResNet.

Each case runs in its own subprocess, so its peak memory (max RSS: torch itself, the input, the uint8
output and the activations) is its own. Cases: the automatic tile plan (``tile="auto"``, from
:func:`srgan_lib.plumbing.upscale.plan_tiles`) and, where it fits, one untiled forward pass (``tile=None``).
An untiled pass that would need more than ``--max-untiled-gb`` is reported as "not run: would need
N GB" (the upsampling stage alone needs ~11.6 kB per LR pixel, measured with the paper's network).

Time: wall seconds *and* CPU seconds of the case (on a shared machine the CPU seconds are the fairer
comparison). A case that passes ``--max-seconds`` stops after the piece in progress and is reported as
*partial*: the fraction of output pixels done, the time so far, the time extrapolated linearly, and the
peak memory so far (the tile plan's largest activations are reached in the first trunk tile, except that
interior tiles carry context on all four sides: up to (tile+80)^2 / (tile+40)^2 more trunk activations).

    OMP_NUM_THREADS=1 python benchmarks/upscale_speed.py --sizes 512 2048
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

UP_BYTES_PER_LR_PX = 11_580  # measured peak of the upsampling stage per LR pixel (paper x4 network, fp32)
TRUNK_BYTES_PER_LR_PX = 1_376  # measured peak of the LR trunk per LR pixel


class _Stop(Exception):
    pass


def _case(size: int, mode: str, max_seconds: float) -> dict:
    """Run one case in this process and return its figures."""
    import numpy as np
    import torch

    from srgan_lib.plumbing.samples import load_sample
    from srgan_lib.models import SRResNet
    from srgan_lib.plumbing.upscale import plan_tiles, upscale_array

    torch.manual_seed(0)
    model = SRResNet().eval()  # speed and memory do not depend on the weights' values
    base = load_sample("astronaut")  # 512 x 512
    reps = -(-size // base.shape[0])
    img = np.ascontiguousarray(np.tile(base, (reps, reps, 1))[:size, :size])  # (size, size, 3)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0, c0 = time.perf_counter(), time.process_time()
    state = {"done": 0.0}

    def progress(done: int, total: int) -> None:
        state["done"] = done / total
        if time.perf_counter() - t0 > max_seconds and done < total:
            raise _Stop

    tile = "auto" if mode == "tiled" else None
    try:
        upscale_array(model, img, tile=tile, progress=progress)
        state["done"] = 1.0
    except _Stop:
        pass
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    frac = state["done"] or 1.0
    tile_side, chunk = plan_tiles(model)
    return {"size": size, "mode": mode, "tile": tile_side if mode == "tiled" else None,
            "chunk": chunk if mode == "tiled" else None, "done": frac, "wall_s": wall, "cpu_s": cpu,
            "wall_s_full": wall / frac, "cpu_s_full": cpu / frac,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
            "rss_before_gb": rss_before / 1e9, "threads": torch.get_num_threads()}


def _spawn(size: int, mode: str, max_seconds: float) -> dict:
    cmd = [sys.executable, __file__, "--case", str(size), mode, "--max-seconds", str(max_seconds)]
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    if res.returncode:
        return {"size": size, "mode": mode, "error": res.stderr.strip().splitlines()[-1:]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def _row(r: dict) -> str:
    if "error" in r:
        return f"{r['size']:>5}  {r['mode']:<8} failed: {r['error']}"
    if "skipped" in r:
        return f"{r['size']:>5}  {r['mode']:<8} {r['skipped']}"
    plan = f"tile {r['tile']}, chunk {r['chunk']}" if r["tile"] else "one forward pass"
    part = "" if r["done"] >= 1 else (f"  PARTIAL {r['done']:.0%}: full run extrapolated to "
                                      f"{r['wall_s_full']:.0f} s wall / {r['cpu_s_full']:.0f} s CPU")
    return (f"{r['size']:>5}  {r['mode']:<8} {r['wall_s']:8.1f} s wall {r['cpu_s']:8.1f} s CPU  "
            f"peak RSS {r['peak_rss_gb']:.2f} GB (before the pass {r['rss_before_gb']:.2f})  {plan}{part}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 2048], help="LR sides (square inputs)")
    ap.add_argument("--max-untiled-gb", type=float, default=8.0)
    ap.add_argument("--max-seconds", type=float, default=1800.0, help="per case; then partial")
    ap.add_argument("--case", nargs=2, metavar=("SIZE", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.case:
        print(json.dumps(_case(int(args.case[0]), args.case[1], args.max_seconds)))
        return 0
    print(f"srgan upscale x4, paper SRResNet, CPU, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    rows = []
    for size in args.sizes:
        need = size * size * UP_BYTES_PER_LR_PX / 1e9
        if need > args.max_untiled_gb:
            rows.append({"size": size, "mode": "untiled",
                         "skipped": f"not run: would need ~{need:.0f} GB of activations"})
        else:
            rows.append(_spawn(size, "untiled", args.max_seconds))
        rows.append(_spawn(size, "tiled", args.max_seconds))
        for r in rows[-2:]:
            print(_row(r), flush=True)
    for size in args.sizes:
        t = next((r for r in rows if r["size"] == size and r["mode"] == "tiled" and "wall_s" in r), None)
        u = next((r for r in rows if r["size"] == size and r["mode"] == "untiled" and "wall_s" in r), None)
        if t and u:
            print(f"{size}: tiled / untiled = {t['cpu_s_full'] / u['cpu_s_full']:.2f}x CPU time, "
                  f"{t['wall_s_full'] / u['wall_s_full']:.2f}x wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
