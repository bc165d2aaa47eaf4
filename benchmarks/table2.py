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
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from srgan_lib.metrics import FLAVOURS, evaluate_pair  # noqa: E402
from srgan_lib.resize import (  # noqa: E402
    downscale_aliased_torch,
    downscale_torch,
    imresize_matlab,
    modcrop,
    upscale_bicubic_torch,
)

SCALE = 4
SETS = ("Set5", "Set14", "BSD100")
#: Table 2 of the paper (x4): PSNR / SSIM as printed.
PAPER = {
    "bicubic": {"Set5": (28.43, 0.8211), "Set14": (25.99, 0.7486), "BSD100": (25.94, 0.6935)},
    "nearest": {"Set5": (26.26, 0.7552), "Set14": (24.64, 0.7100), "BSD100": (25.02, 0.6606)},
}


def _read(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        if im.mode not in ("L", "RGB"):
            sys.exit(f"{path}: unexpected image mode {im.mode} (want 8-bit gray or RGB)")
        return np.asarray(im)  # (H, W) gray or (H, W, 3)


def _t(img: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.array(img)).to(torch.float32) / 255
    return x[None] if x.ndim == 2 else x.permute(2, 0, 1)  # (C, H, W)


def _u8(x: torch.Tensor) -> np.ndarray:
    a = (x.clamp(0, 1) * 255 + 0.5).floor().to(torch.uint8)
    return a[0].numpy() if a.shape[0] == 1 else a.permute(1, 2, 0).numpy()


def _pil(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(img).resize(size, Image.Resampling.BICUBIC))


def methods(hr: np.ndarray) -> dict[str, np.ndarray]:
    """Every x4 reconstruction of one HR image that the table compares."""
    h, w = hr.shape[:2]
    lr = imresize_matlab(hr, 1 / SCALE)  # = SelfExSR's published LR, bit for bit
    lr_pil = _pil(hr, (w // SCALE, h // SCALE))
    lr_torch = _u8(downscale_torch(_t(hr), SCALE))
    lr_aliased = _u8(downscale_aliased_torch(_t(hr), SCALE))
    return {
        "bicubic": imresize_matlab(lr, float(SCALE)),
        "nearest": np.repeat(np.repeat(lr, SCALE, axis=0), SCALE, axis=1),
        "torch bicubic": _u8(upscale_bicubic_torch(_t(lr_torch), SCALE)),
        "PIL bicubic": _pil(lr_pil, (w, h)),
        "aliased LR": imresize_matlab(lr_aliased, float(SCALE)),
    }


LABELS = {
    "bicubic": "bicubic: MATLAB imresize down and up",
    "nearest": "nearest neighbour up (MATLAB LR)",
    "torch bicubic": "torch: antialias=True down, a=-0.75 up",
    "PIL bicubic": "PIL: Image.BICUBIC down and up",
    "aliased LR": "antialias=False down, MATLAB up",
}


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
    sets = tuple(args.sets)
    missing = [s for s in sets if not (args.datasets / s).is_dir()]
    if missing:
        sys.exit(
            f"benchmark images not found: {', '.join(str(args.datasets / s) for s in missing)}\n"
            "Pass --datasets DIR with Set5/, Set14/ and BSD100/ HR PNGs inside "
            "(srgan_lib.download fetches them on an online machine)."
        )
    torch.set_num_threads(1)
    scores: dict = {}  # (flavour, method, set) -> list of (psnr, ssim)
    seconds = {f: 0.0 for f in FLAVOURS}
    n_images = 0
    lr_checked = lr_equal = 0
    for name in sets:
        files = sorted((args.datasets / name).glob("*.png"))
        for f in files:
            hr = modcrop(_read(f), SCALE)
            published = args.datasets / "SelfExSR_x4_LR" / name / f.name
            if published.is_file():
                lr_checked += 1
                lr_equal += np.array_equal(imresize_matlab(hr, 1 / SCALE), _read(published))
            for method, sr in methods(hr).items():
                for flavour in FLAVOURS:
                    t0 = time.process_time()
                    r = evaluate_pair(sr, hr, crop_border=SCALE, flavour=flavour)
                    seconds[flavour] += time.process_time() - t0
                    scores.setdefault((flavour, method, name), []).append((float(r["psnr"]), float(r["ssim"])))
            n_images += 1
        print(f"  {name}: {len(files)} images measured", file=sys.stderr, flush=True)

    def cell(flavour: str, method: str, name: str) -> tuple[str, float, float]:
        p, s = np.mean(scores[(flavour, method, name)], axis=0)
        return f"{p:7.4f} / {s:.4f}", p, s

    width = 41
    head = "".join(f"{s:>21}" for s in sets)
    print(f"Table 2 (x{SCALE}): mean PSNR [dB] / SSIM on Y, {SCALE}-pixel border removed")
    print("(=: equals the paper's printed value, PSNR to 2 decimals and SSIM to 4; x: does not)\n")
    print(" " * width + head)
    print("flavour='paper' (daala png2y4m + dump_psnr + dump_ssim: what the paper used)")
    matches = 0
    for method in LABELS:
        if method in PAPER:
            row = "".join(f"{p:>12.2f} / {s:.4f}  " for p, s in (PAPER[method][n] for n in sets))
            print(f"  paper's Table 2, {method}".ljust(width) + row)
        row = ""
        for name in sets:
            text, p, s = cell("paper", method, name)
            mark = "  "
            if method in PAPER:
                pp, ps = PAPER[method][name]
                ok_p, ok_s = f"{p:.2f}" == f"{pp:.2f}", f"{s:.4f}" == f"{ps:.4f}"
                matches += ok_p + ok_s
                mark = " =" if ok_p and ok_s else " x"
            row += f"{text:>19}{mark}"
        print(f"  {LABELS[method]}".ljust(width) + row)
    print("\nflavour='standard' (MATLAB rgb2ycbcr + Wang's ssim_index: VDSR/EDSR-era papers)")
    for method in LABELS:
        row = "".join(f"{cell('standard', method, n)[0]:>19}  " for n in sets)
        print(f"  {LABELS[method]}".ljust(width) + row)
    gap = "  ".join(
        f"{n} {cell('paper', 'bicubic', n)[2] - cell('standard', 'bicubic', n)[2]:+.4f}" for n in sets
    )
    print(f"\nSSIM, paper minus standard flavour, same bicubic images: {gap}")
    total = 4 * len(sets)
    print(f"Paper's numbers reproduced: {matches} of {total} (bicubic and nearest-neighbour PSNR and SSIM)")
    if lr_checked:
        print(f"MATLAB-era resize == SelfExSR's published LR PNGs: {lr_equal} of {lr_checked} images, bit for bit")
    per = {f: 1000 * seconds[f] / (n_images * len(LABELS)) for f in FLAVOURS}
    print(
        f"Metric CPU time per image pair (PSNR + SSIM, {n_images * len(LABELS)} pairs, 1 thread): "
        + ", ".join(f"{f} {per[f]:.0f} ms" for f in FLAVOURS)
    )
    return 0 if matches == total else 1


if __name__ == "__main__":
    sys.exit(main())
