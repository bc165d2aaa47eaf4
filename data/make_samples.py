"""Regenerate the bundled sample images in ``data/samples/`` from scikit-image's own data files.

    python data/make_samples.py            # writes data/samples/<name>.png (refuses to overwrite)
    python data/make_samples.py --force    # rewrites them

The pixels are exactly what ``skimage.data.<name>()`` returns (rocket is a JPEG in scikit-image; its
decoded pixels are stored losslessly). Colour photographs are stored as RGB PNGs, the grayscale
textures as 8-bit grayscale PNGs; :func:`srgan_lib.plumbing.samples.load_sample` turns them into ``(H, W, 3)``
uint8 either way. ``tests/test_samples.py`` checks that these files and scikit-image agree pixel for pixel.
Licences and attribution: ``data/README.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import skimage
import skimage.data

from srgan_lib.plumbing.files import save_image
from srgan_lib.plumbing.samples import SAMPLE_NAMES

HERE = Path(__file__).resolve().parent / "samples"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    ap.add_argument("--out", type=Path, default=HERE, help=f"output folder (default {HERE})")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in SAMPLE_NAMES:
        img = np.asarray(getattr(skimage.data, name)())  # (H, W, 3) or (H, W) uint8
        path = save_image(args.out / f"{name}.png", img, overwrite=args.force, optimize=True)
        print(f"{path}  {img.shape}  {path.stat().st_size / 1024:.0f} KiB  (scikit-image {skimage.__version__})")


if __name__ == "__main__":
    main()
