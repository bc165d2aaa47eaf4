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
    # phase 4: 96x96 crops on a GPU (bf16 autocast, channels_last), from phase 3
    python scripts/train_shipped.py --device cuda --workers 6 --kodak DIR --out runs/phase4 \
        --init runs/phase3/generator.safetensors --steps 6000 --crop 96 --lr 1e-4 --warmup 200 --seed 4 --keep-every 0
    # phase 5: the 490 training photographs of ../shared/datasets and Kodak24, from phase 4, bf16 on a CPU with AMX
    python scripts/train_shipped.py --data T91 BSD200 BSDS500-test Kodak24 --out runs/phase5 \
        --init runs/phase4/generator.safetensors --steps 4000 --crop 96 --lr 1e-4 --warmup 200 --seed 5 \
        --keep-every 0 --val-every 1000 --curve-root DATASETS --threads 1 --set cpu_bf16=true
    # phase 6: the same photographs, 12,000 more steps from phase 5 (srgan_lib/weights/srresnet_x4.*)
    python scripts/train_shipped.py --data T91 BSD200 BSDS500-test Kodak24 --out runs/phase6 \
        --init runs/phase5/generator.safetensors --steps 12000 --crop 96 --lr 1e-4 --warmup 200 --seed 6 \
        --keep-every 0 --val-every 1000 --curve-root DATASETS --threads 1 --set cpu_bf16=true
    # SRGAN-MSE (Table 1: l_X = pixel MSE, plus an adversarial l_Gen): the srgan/cpu preset (its card gives each
    # choice and its measured effect), from the shipped SRResNet (phase 6), with the measured curve recorded
    python scripts/train_shipped.py --mode srgan --data T91 BSD200 BSDS500-test Kodak24 --out runs/srgan_mse \
        --init srgan_lib/weights/srresnet_x4.safetensors --steps 2000 --batch 8 --lr 1e-5 --seed 7 --keep-every 0 \
        --val-every 200 --curve-root DATASETS --threads 1 --set cpu_bf16=true ema_decay=0.995 freeze_bn=true \
        lr_d=1e-4 adversarial_weight=5e-3 d_shift=3 freeze_upsampling=true

Phases 1-3, 5, 6 and the SRGAN-MSE run used this project's 2-core CPU; phase 4 (6,000 steps, about 2 minutes) a
lent H200 GPU, where results are not bit-exact across machines. The SRGAN-MSE weights are the run's final
moving average of G (no snapshot picked); OUT/curve.json records Set5/Set14/held-out PSNR, grid and detail ratio
every 200 steps (--curve-root: the folder holding Set5 and Set14).

Each phase runs through ``srgan_lib.run`` and ends by recomputing the BN statistics with the final weights
(Trainer.recalibrate_bn) and writes OUT/generator.safetensors. A stopped run resumes from OUT/last.pt when started again with the same options.
After copying a result to srgan_lib/weights/, `python scripts/make_card.py NAME --measure --root DIR` re-measures
its card's numbers and rewrites the card (the training facts in NAME.json are edited by hand, once per run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from srgan_lib.plumbing.checkpoint import load_checkpoint
from srgan_lib.data import EvalSet, PatchDataset, load_eval_set
from srgan_lib.plumbing.image_cache import image_store
from srgan_lib.plumbing.evaluate import bicubic_upscaler, evaluate, model_upscaler
from srgan_lib.plumbing.files import atomic_write, find_images, read_rgb
from srgan_lib.plumbing.diagnostics import high_frequency_ratio
from srgan_lib.plumbing.provenance import digest_file_list
from srgan_lib.resize import matlab_lr, modcrop
from srgan_lib.plumbing.samples import HELD_OUT_SAMPLES, load_sample
from srgan_lib.plumbing.runs import run
from srgan_lib.train import Trainer, preset

CURVE_SETS = ("Set5", "Set14")
HELD_OUT = HELD_OUT_SAMPLES[:2]  # astronaut, coffee: the photographs the earlier cards' curves used


def training_folders(folders: list[str]) -> tuple[list[np.ndarray], str, list[Path]]:
    """The images of ``folders`` (each read as RGB), exact pixel duplicates kept once, a label naming the
    folders and the image count (recorded in the exported weights' metadata), and the files kept."""
    images, seen, counts, kept = [], set(), [], []
    for folder in folders:
        n = 0
        for f in find_images(folder):
            img = read_rgb(f)
            key = hashlib.sha256(img.tobytes()).hexdigest()
            if key not in seen:
                seen.add(key)
                images.append(img)
                kept.append(Path(f))
                n += 1
        counts.append(f"{Path(folder).name} ({n})")
    return images, " + ".join(counts) + f": {len(images)} images", kept


def data_provenance(label: str, files: list[Path]) -> dict[str, object]:
    """The run's training data as :mod:`srgan_lib.plumbing.provenance` records it (``srgan info`` shows it): the folders
    and count as source, the image count, and the digest of the file list (names relative to the folders' common
    parent, and sizes)."""
    parent = Path(os.path.commonpath([f.parent.resolve() for f in files])).parent
    return {"data_source": label, "data_images": len(files), "data_toy": False,
            "data_files_sha256": digest_file_list([f.resolve() for f in files], parent)}


def held_out_set() -> EvalSet:
    """The held-out photographs as evaluation pairs: HR cut to a multiple of 4, LR their MATLAB bicubic x1/4."""
    pairs = EvalSet(name="held-out")
    for name in HELD_OUT:
        hr = modcrop(load_sample(name), 4)
        pairs.append((name, matlab_lr(hr, 4), hr))
    return pairs


def curve_recorder(root: str | Path, out: Path, held: EvalSet) -> Callable[[Trainer, dict], None]:
    """A ``Trainer.fit`` callback that measures the generator being validated (its moving average when the
    run keeps one) at every validation: paper-flavour PSNR and grid score on Set5 and Set14 and on the held-out
    photographs, their mean NIQE, and the mean Set14 detail (HF) ratio; appends them to ``out/curve.json`` (written atomically).
    Every point is kept: the curve is the run's record, not a basis for picking a snapshot."""
    sets = {name: load_eval_set(name, root=root) for name in CURVE_SETS}
    sets["held-out"] = held
    base = {r["dataset"]: r for r in evaluate({"bicubic": bicubic_upscaler(4)}, sets, flavours=("paper",))}
    points: list[dict] = [{"step": "bicubic", **{f"{d}_psnr": base[d]["psnr"] for d in sets},
                           **{f"{d}_grid": base[d]["grid"] for d in sets}, **{f"{d}_niqe": base[d]["niqe"] for d in sets}}]
    if (out / "curve.json").is_file():  # a resumed run: keep the points measured before the stop
        points += [p for p in json.loads((out / "curve.json").read_text()) if p["step"] != "bicubic"]

    def record(trainer: Trainer, val: dict) -> None:
        g = trainer.eval_generator
        was_training = g.training
        g.eval()
        up = model_upscaler(g)
        rows = {r["dataset"]: r for r in evaluate({"G": up}, sets, flavours=("paper",))}
        hf = float(np.mean([high_frequency_ratio(up(lr), hr) for _, lr, hr in sets["Set14"]]))
        trainer.train_mode(g, was_training)
        d_acc = [h["d_acc"] for h in trainer.history if "d_acc" in h]
        point = {"step": trainer.step, **{f"{d}_psnr": rows[d]["psnr"] for d in sets},
                 **{f"{d}_grid": rows[d]["grid"] for d in sets}, **{f"{d}_niqe": rows[d]["niqe"] for d in sets},
                 "Set14_hf_ratio": hf,
                 "d_acc": d_acc[-1] if d_acc else None}
        points.append(point)
        atomic_write(out / "curve.json", lambda tmp: Path(tmp).write_text(json.dumps(points, indent=1)))
        print("curve " + "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in point.items()),
              flush=True)

    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("srresnet", "srgan"), default="srresnet",
                    help="srresnet: pixel MSE (section 2.2.1); srgan: SRGAN-MSE, MSE content + 1e-3 adversarial loss")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--kodak", help="folder with the 24 Kodak PNGs (+ chelsea and rocket: the earlier cards' data)")
    src.add_argument("--data", nargs="+", metavar="DIR",
                     help="training folders, e.g. T91 BSD200 BSDS500-test Kodak24 (images smaller than the crop are "
                          "skipped; exact pixel duplicates such as T91's t36/t65 are kept once)")
    ap.add_argument("--out", required=True, help="run folder (resumes from last.pt when present)")
    ap.add_argument("--init", default=None, help="start from these generator weights (phase 2)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--crop", type=int, default=None)
    ap.add_argument("--batch", type=int, default=None)
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
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="further training options (as srgan train --set), e.g. ema_decay=0.999 freeze_bn=true")
    ap.add_argument("--curve-root", default=None,
                    help="folder with Set5 and Set14: record OUT/curve.json (Set5/Set14/held-out PSNR, grid, Set14 HF "
                         "ratio) at every validation")
    ap.add_argument("--val-every", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    if args.kodak:
        files = list(find_images(args.kodak))
        images = [read_rgb(f) for f in files] + [load_sample("chelsea"), load_sample("rocket")]
        data_label = "Kodak24 + chelsea + rocket"
        facts = dict(data_provenance(data_label, [Path(f) for f in files]), data_images=len(images))
    else:
        images, data_label, files = training_folders(args.data)
        facts = data_provenance(data_label, files)
    facts["preset"] = f"{args.mode}/cpu, with the options of this command"
    overrides = {"keep_every": args.keep_every, "seed": args.seed,
                 "num_workers": args.workers, "amp": not args.no_amp}
    for key, value in (("steps", args.steps), ("crop", args.crop), ("lr", args.lr), ("warmup_steps", args.warmup),
                       ("val_every", args.val_every), ("batch_size", args.batch),
                       ("init_generator", args.init)):  # unset: the preset's own (srgan: srresnet_x4)
        if value is not None:
            overrides[key] = value
    from srgan_lib.plumbing.cli import _parse_overrides

    overrides.update(_parse_overrides(args.set))
    config = preset(args.mode, "cpu", **overrides)
    train_set = PatchDataset(image_store(images, crop=config.crop, skip_small=True), crop=config.crop,
                             scale=config.scale, seed=config.seed)
    held = held_out_set() if args.curve_root else EvalSet()
    callback = curve_recorder(args.curve_root, Path(args.out), held) if args.curve_root else None

    def on_start(trainer: Trainer, note: str) -> None:
        print(note, flush=True)
        if callback and trainer.step == 0:
            callback(trainer, {})  # the starting point

    kwargs = dict(replace=False, overwrite=True, callback=callback, on_start=on_start, device=args.device,
                  val_pairs=held.tensors(), facts=facts)  # the folder's run is resumed, never replaced
    card = dict(data=data_label, bn_recalibrated=True)
    if args.export_step is None:  # fit, precise BN, export (with last.pt, which then holds the same generator)
        run(config, train_set, args.out, bn_batches=args.bn_batches, card=card, **kwargs)
        return
    trainer, _ = run(config, train_set, args.out, export=False, **kwargs)
    # an earlier snapshot of the same run, its BN statistics recomputed
    snapshot = load_checkpoint(Path(args.out) / f"step_{args.export_step:07d}.pt")
    trainer.generator.load_state_dict(snapshot["generator"])
    trainer.recalibrate_bn(args.bn_batches)
    trainer.export_generator(f"{args.out}/generator.safetensors", **card,
                             step=snapshot["step"])  # the weights' own step, not the run's last


if __name__ == "__main__":
    main()
