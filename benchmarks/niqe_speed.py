"""How long NIQE (``srgan_lib.plumbing.diagnostics.niqe``, issue 27) takes: Set14's baboon, and every HR image of Set14 and BSD100.

Plain numpy (vectorised over patches; the MSCN filter as 49 shifted sums); the median of ``--repeat`` runs for
baboon, one pass for the sets. Needs Set14 and BSD100 in a data root (``srgan download Set14 BSD100``, or ``../shared/datasets``).

    python benchmarks/niqe_speed.py [--repeat 5]   # output: niqe_speed.txt
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from srgan_lib.plumbing.download import find_dataset
from srgan_lib.plumbing.files import find_images, read_rgb
from srgan_lib.plumbing.diagnostics import niqe


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"NIQE timing, {platform.processor() or platform.machine()}, numpy {np.__version__}")
    baboon = read_rgb(find_dataset("Set14") / "baboon.png")  # (480, 500, 3)
    niqe(baboon)  # tables and the parameter file, once
    runs = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        value = float(niqe(baboon))
        runs.append(time.perf_counter() - t)
    print(f"baboon {baboon.shape[1]}x{baboon.shape[0]}: NIQE {value:.4f} (MATLAB 5.7296), "
          f"median {np.median(runs) * 1000:.0f} ms over {args.repeat} runs")
    for name in ("Set14", "BSD100"):
        files = find_images(find_dataset(name))
        t = time.perf_counter()
        values = [float(niqe(read_rgb(f))) for f in files]
        dt = time.perf_counter() - t
        print(f"{name}: {len(files)} HR images in {dt:.1f} s ({dt / len(files) * 1000:.0f} ms each, reading included), "
              f"mean NIQE {np.mean(values):.3f}")


if __name__ == "__main__":
    main()
