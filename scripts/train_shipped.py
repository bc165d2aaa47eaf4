"""How the shipped x4 weights (srgan_lib/weights/srresnet_x4.* and srgan_mse_x4.*) were trained, reproducibly.

Data: Kodak24 (Eastman Kodak, released for unrestricted use; `srgan download kodak24`) plus the bundled
scikit-image photographs chelsea and rocket. Never the evaluation sets (Set5/Set14/BSD100).

    # phase 1: the `cpu` preset (64x64 crops, Adam 5e-4 cosine, 5,000 steps)
    python scripts/train_shipped.py --kodak DIR --out runs/phase1
    # phase 2: the paper's 96x96 crops, starting from phase 1
    python scripts/train_shipped.py --kodak DIR --out runs/phase2 --init runs/phase1/generator.safetensors \
        --steps 650 --crop 96 --lr 2e-4 --warmup 50 --seed 1
    # phase 3: 96x96 crops again, from phase 2
    python scripts/train_shipped.py --kodak DIR --out runs/phase3 --init runs/phase2/generator.safetensors \
        --steps 3600 --crop 96 --lr 2e-4 --warmup 100 --seed 2
    # phase 4: 96x96 crops on a GPU (bf16 autocast, channels_last), from phase 3: srgan_lib/weights/srresnet_x4.*
    python scripts/train_shipped.py --device cuda --workers 6 --kodak DIR --out runs/phase4 \
        --init runs/phase3/generator.safetensors --steps 6000 --crop 96 --lr 1e-4 --warmup 200 --seed 4 --keep-every 0
    # SRGAN-MSE (Table 1: l_X = pixel MSE, plus 1e-3 l_Gen): the srgan/cpu preset, from the phase-3 SRResNet
    python scripts/train_shipped.py --mode srgan --kodak DIR --out runs/srgan_mse --init runs/phase3/generator.safetensors \
        --steps 1000 --seed 3 --export-step 250

Phases 1-3 and the SRGAN-MSE run used this project's 2-core CPU; phase 4 (6,000 steps, about 2 minutes) a
lent H200 GPU, where results are not bit-exact across machines. The SRGAN-MSE run goes to 1,000 steps; the
shipped weights are its step-250 snapshot, the last whose PSNR on the held-out bundled photographs (astronaut,
coffee) stays above bicubic (see srgan_mse_x4.md for why).

Each phase ends by recomputing the BN statistics with the final weights (Trainer.recalibrate_bn) and writes
OUT/generator.safetensors. A stopped run resumes from OUT/last.pt when started again with the same options.
After copying a result to srgan_lib/weights/, `python scripts/make_card.py NAME --measure --root DIR` re-measures
its card's numbers and rewrites the card (the training facts in NAME.json are edited by hand, once per run).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from srgan_lib.checkpoint import load_checkpoint
from srgan_lib.data import PatchDataset, find_images, load_sample, read_rgb
from srgan_lib.train import Trainer, preset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("srresnet", "srgan"), default="srresnet",
                    help="srresnet: pixel MSE (section 2.2.1); srgan: SRGAN-MSE, MSE content + 1e-3 adversarial loss")
    ap.add_argument("--kodak", required=True, help="folder with the 24 Kodak PNGs")
    ap.add_argument("--out", required=True, help="run folder (resumes from last.pt when present)")
    ap.add_argument("--init", default=None, help="start from these generator weights (phase 2)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--crop", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep-every", type=int, default=250)
    ap.add_argument("--export-step", type=int, default=None,
                    help="export the kept snapshot OUT/step_N.pt (keep-every multiple) instead of the final weights")
    ap.add_argument("--bn-batches", type=int, default=100)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (CUDA trains with bf16/fp16 autocast)")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    ap.add_argument("--no-amp", action="store_true", help="CUDA: train in float32 instead of bf16/fp16 autocast")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    images = [read_rgb(f) for f in find_images(args.kodak)] + [load_sample("chelsea"), load_sample("rocket")]
    overrides = {"keep_every": args.keep_every, "seed": args.seed, "init_generator": args.init,
                 "num_workers": args.workers, "amp": not args.no_amp}
    for key, value in (("steps", args.steps), ("crop", args.crop), ("lr", args.lr), ("warmup_steps", args.warmup)):
        if value is not None:
            overrides[key] = value
    config = preset(args.mode, "cpu", **overrides)
    train_set = PatchDataset(images, crop=config.crop, scale=config.scale, seed=config.seed)
    trainer = Trainer(config, train_set, out_dir=args.out, device=args.device)
    trainer.fit()
    step = trainer.step
    if args.export_step is not None:  # an earlier snapshot of the same run (its BN statistics recomputed below)
        snapshot = load_checkpoint(Path(args.out) / f"step_{args.export_step:07d}.pt")
        trainer.generator.load_state_dict(snapshot["generator"])
        step = snapshot["step"]
    trainer.recalibrate_bn(args.bn_batches)
    trainer.export_generator(f"{args.out}/generator.safetensors", data="Kodak24 + chelsea + rocket",
                             bn_recalibrated=True, step=step)  # the weights' own step, not the run's last


if __name__ == "__main__":
    main()
