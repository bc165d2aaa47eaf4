"""The paper's Table 2 bicubic and nearest-neighbour rows (x4), reproduced, and what each choice costs.

Ledig et al. (section 3.1) measured PSNR/SSIM on the Y channel after removing a 4-pixel border, with
the daala tools; their bicubic images came from SelfExSR (MATLAB imresize). This script recomputes
those two rows on Set5, Set14 and BSD100 with ``flavour="paper"`` and prints them beside the paper's
numbers, marking each match at the paper's printed precision (PSNR 2 decimals, SSIM 4). It then shows
the same images measured the "standard" way (MATLAB rgb2ycbcr + Wang's ssim_index, the protocol of
VDSR/EDSR-era papers), and bicubic baselines made other ways (torch, PIL, an aliased downscale), so
you can see how far each choice moves a number.

Usage (from the repository root)::

    python benchmarks/table2.py                       # uses ../shared/datasets
    python benchmarks/table2.py --datasets DIR        # DIR/{Set5,Set14,BSD100}/*.png (HR)

It also prints the CPU time each metric flavour takes per image pair on this machine. Exit status 0
when all twelve numbers match the paper.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from srgan_lib.data import load_eval_set  # noqa: E402
from srgan_lib.plumbing.files import read_rgb  # noqa: E402
from srgan_lib.plumbing.evaluate import bicubic_upscaler, format_table2, matches_paper, score_pair, table2  # noqa: E402
from srgan_lib.metrics import FLAVOURS  # noqa: E402

SCALE = 4
SETS = ("Set5", "Set14", "BSD100")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        type=Path,
        default=ROOT.parent / "shared" / "datasets",
        help="folder holding Set5/, Set14/, BSD100/ HR images (default: ../shared/datasets)",
    )
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS), help="which test sets")
    args = parser.parse_args(argv)
    missing = [s for s in args.sets if not (args.datasets / s).is_dir()]
    if missing:
        sys.exit(
            f"benchmark images not found: {', '.join(str(args.datasets / s) for s in missing)}\n"
            "Pass --datasets DIR with Set5/, Set14/ and BSD100/ HR PNGs inside "
            "(`srgan download set5 set14 bsd100` fetches them on an online machine)."
        )
    torch.set_num_threads(1)
    sets = {name: load_eval_set(args.datasets / name, SCALE) for name in args.sets}
    rows = table2(sets, SCALE)
    print(format_table2(rows))
    by = {(r["method"], r["dataset"], r["flavour"]): r for r in rows}
    gap = "  ".join(f"{n} {by[('bicubic', n, 'paper')]['ssim'] - by[('bicubic', n, 'standard')]['ssim']:+.4f}" for n in sets)
    print(f"SSIM, paper minus standard flavour, same bicubic images: {gap}")

    lr_checked = lr_equal = 0  # the MATLAB-era resize against SelfExSR's published LR files
    for name, pairs in sets.items():
        for img, lr, _ in pairs:
            published = args.datasets / "SelfExSR_x4_LR" / name / f"{img}.png"
            if published.is_file():
                lr_checked += 1
                lr_equal += np.array_equal(lr, read_rgb(published))
    if lr_checked:
        print(f"MATLAB-era resize == SelfExSR's published LR PNGs: {lr_equal} of {lr_checked} images, bit for bit")

    seconds = {f: 0.0 for f in FLAVOURS}  # metric cost alone, on the bicubic results
    pairs = [(lr, hr) for p in sets.values() for _, lr, hr in p]
    up = bicubic_upscaler(SCALE)
    for lr, hr in pairs:
        sr = up(lr)
        for f in FLAVOURS:
            t0 = time.process_time()
            score_pair(sr, hr, f, crop_border=SCALE)  # (gray files measured as colour here: same cost)
            seconds[f] += time.process_time() - t0
    print(
        f"Metric CPU time per image pair (PSNR + SSIM, {len(pairs)} pairs, 1 thread): "
        + ", ".join(f"{f} {1000 * seconds[f] / len(pairs):.0f} ms" for f in FLAVOURS)
    )
    paper_rows = [r for r in rows if matches_paper(r) is not None]
    return 0 if paper_rows and all(matches_paper(r) for r in paper_rows) else 1


if __name__ == "__main__":
    sys.exit(main())
