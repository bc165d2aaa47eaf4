"""How the shipped SRResNet x4 weights were trained (reproducible on any machine).

Data: Kodak24 (Eastman Kodak, released for unrestricted use; `srgan download kodak24`) plus the
bundled scikit-image photographs chelsea and rocket. Never the evaluation sets (Set5/Set14/BSD100).
Recipe: the `cpu` preset of srgan_lib.train (paper architecture; 64 x 64 crops, Adam 5e-4 cosine).

    python scripts/train_shipped_srresnet.py --kodak DIR --out runs/srresnet_cpu
"""

from __future__ import annotations

import argparse

import torch

from srgan_lib.data import PatchDataset, find_images, read_rgb
from srgan_lib.train import Trainer, preset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kodak", required=True, help="folder with the 24 Kodak PNGs")
    ap.add_argument("--out", required=True, help="run folder (resumes from last.pt when present)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--keep-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import skimage.data

    images = [read_rgb(f) for f in find_images(args.kodak)]
    images += [skimage.data.chelsea(), skimage.data.rocket()]
    overrides = {"keep_every": args.keep_every}
    if args.steps:
        overrides["steps"] = args.steps
    config = preset("srresnet", "cpu", **overrides)
    train_set = PatchDataset(images, crop=config.crop, scale=config.scale, seed=config.seed)
    trainer = Trainer(config, train_set, out_dir=args.out, device="cpu")
    trainer.fit()
    trainer.export_generator(f"{args.out}/generator.safetensors", data="Kodak24 + chelsea + rocket")


if __name__ == "__main__":
    main()
