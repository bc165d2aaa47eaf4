"""Plumbing, not part of the lesson: the ``srgan`` command, a thin shell over the library, one small function per
subcommand.

Adding a subcommand (``demo``, ``upscale``, ``train``, ``evaluate``, ``download``, ...) takes two steps:

1. write ``_add_NAME(parser)`` (its arguments) and ``_run_NAME(args) -> int`` (the work, importing
   from the floors below *inside* the function, so ``srgan --help`` stays fast);
2. add one :class:`Command` line to :data:`COMMANDS`.

Errors are reported as one line on stderr (``srgan: error: ...``) with a non-zero exit status, never as a
traceback: raise :class:`CommandError` (or let a ``ValueError``/``OSError``/``RuntimeError`` from the
library, whose messages name the file and the problem, propagate). ``SRGAN_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from dataclasses import dataclass
from typing import Callable, NoReturn, Sequence

from .. import __version__

PROG = "srgan"

#: Exit statuses: 0 success, 1 the command failed, 2 bad usage, 130 interrupted (Ctrl-C).
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EPILOG = """\
examples:
  srgan --version
  srgan demo                 the shipped weights on a held-out picture -> srgan_demo.png
  srgan upscale photo.jpg -o photo_x4.png
  srgan info                 versions, and the device the tutorial would use here
  srgan COMMAND --help       the options of one command

The notebooks in notebooks/ teach what each command does (Ledig et al., CVPR 2017).
"""


class CommandError(Exception):
    """A failure to report as one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (``srgan: error: ...``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, a one-line help, how to add its arguments, and what it runs."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --- srgan info ----------------------------------------------------------------------------------


def _add_info(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _example("srgan info", "srgan info runs/srgan/generator.safetensors   (where the weights come from)")
    parser.add_argument("file", nargs="?", metavar="WEIGHTS",
                        help="a generator (.safetensors, last.pt or bundled name): print its provenance instead")
    parser.add_argument("--device", default="auto", help="device to describe: auto (default), cpu, cuda, mps")


def _provenance_lines(weights: str) -> list[str]:
    """The provenance of generator ``weights`` (:func:`srgan_lib.plumbing.provenance.describe`), "unknown" where the file
    predates a field."""
    from .provenance import describe
    from .weights import read_generator_metadata

    return describe(read_generator_metadata(weights))


def _run_info(args: argparse.Namespace) -> int:
    import platform

    import torch

    from .runtime import amp_dtype_for, describe_device, describe_precision, quick_mode

    if args.file:
        print(f"{args.file}:")
        for line in _provenance_lines(args.file):
            print(f"  {line}")
        return EXIT_OK
    picked = _device(args.device)  # fails before printing anything
    device = describe_device(picked)
    print(f"srgan-tutorial {__version__}")
    print(f"python {platform.python_version()}, torch {torch.__version__}")
    print(f"device: {device}")
    print(f"training precision: {describe_precision(picked, amp_dtype_for(picked))}")
    print(f"quick run (SRGAN_QUICK): {quick_mode()}")
    return EXIT_OK


# --- shared helpers ------------------------------------------------------------------------------


def finite_number(text: str) -> float:
    """The argparse type of every float option: a finite number (``float`` alone takes ``nan`` and ``inf``, and a
    NaN limit compares false with everything, which switches the limit off)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def weights_name(text: str) -> str:
    """The argparse type of the weights options: not empty (an empty value would fall back to the default weights)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty value; give a bundled name or a weights file, or leave the option "
                                         "out for the default")
    return text


def _example(*lines: str) -> str:
    return "example:\n" + "\n".join(f"  {line}" for line in lines)


_DEVICES = "auto, cpu, cuda, cuda:N or mps"


def _check_device(name: str) -> str:
    """Refuse a --device this command cannot use (``tpu``, a typo, MPS where there is none) in one line."""
    import re

    import torch

    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", name):
        raise CommandError(f"--device {name!r}: not a device this command knows; use {_DEVICES}")
    mps = getattr(torch.backends, "mps", None)
    if name == "mps" and not (mps is not None and mps.is_available()):
        raise CommandError("--device mps: Apple's MPS is not available here; use auto or cpu")
    return name


def _device(name: str):
    from .runtime import pick_device

    return pick_device(_check_device(name))


def _default_weights() -> str:
    from .weights import BUNDLED, available

    have = available()
    if not have:
        raise CommandError(f"no bundled weights in this installation ({', '.join(BUNDLED)} are missing); "
                           "pass --weights PATH (a .safetensors file or a training checkpoint)")
    return next(iter(have))


def _load(weights: str, device, scale: int | None = None):
    from ..models import scale_of
    from .weights import load_generator

    model = load_generator(weights, device=device)
    if scale is not None and scale_of(model) != scale:
        have = scale_of(model)
        raise CommandError(f"{weights}: weights are for x{have}, but --scale {scale} was asked for; "
                           f"pass x{scale} weights or --scale {have}")
    return model


# --- srgan demo ----------------------------------------------------------------------------------

_DEMO_LABELS = {"srresnet_x4": "SRResNet", "srgan_mse_x4": "SRGAN-MSE"}
#: The factor the demo shows when no weights are shipped (bicubic alone): the bundled weights' and the paper's.
_DEMO_SCALE = 4


def _load_all(names, device):
    """``({label: generator}, scale)``: the weights named (bundled names or paths), labelled as tables and figures
    show them, and the one upscaling factor they share (:func:`srgan_lib.models.scale_of`; ``None`` without
    names). Weights of different scales are refused: the crop, the LR images and the bicubic row depend on it."""
    from pathlib import Path

    from ..models import scale_of
    from .weights import BUNDLED

    models = {(_DEMO_LABELS.get(w, w) if w in BUNDLED else Path(w).stem): _load(w, device) for w in names}
    scales = {scale_of(m) for m in models.values()}
    if len(scales) > 1:
        raise CommandError(f"weights of different scales ({sorted(scales)}); use weights of one scale at a time")
    return models, (scales.pop() if scales else None)


def _add_demo(parser: argparse.ArgumentParser) -> None:
    from .samples import HELD_OUT_SAMPLES

    parser.epilog = _example("srgan demo                       writes ./srgan_demo.png",
                             "srgan demo --image coffee -o coffee.png --overwrite")
    parser.add_argument("--image", default="astronaut", choices=HELD_OUT_SAMPLES,
                        help="bundled picture never seen in training (default astronaut)")
    parser.add_argument("-o", "--out", default="srgan_demo.png", help="figure file (default ./srgan_demo.png)")
    parser.add_argument("--overwrite", "--force", action="store_true", help="replace an existing figure")
    parser.add_argument("--weights", nargs="+", metavar="W", type=weights_name,
                        help="weights to show instead of the bundled ones (names or paths)")
    parser.add_argument("--size", type=int, default=256,
                        help="HR side of the crop used, the most textured window of the picture (default 256; "
                             "0: the whole image)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, mps")


def _run_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .evaluate import bicubic_upscaler
    from ..metrics import psnr, ssim
    from .upscale import upscale_array
    from ..figures.viz import held_out_pair
    from .weights import BUNDLED, available

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise CommandError(f"{out}: already exists; pass --overwrite (or -o another name)")
    if not out.parent.is_dir():
        raise CommandError(f"{out}: the folder {out.parent} does not exist")
    device = _device(args.device)
    if args.size < 0:
        raise CommandError(f"--size {args.size}: use a whole number >= 0 (0: the whole image)")
    notes = []
    if args.weights:
        names = args.weights
    else:
        have = available()
        names = [n for n in BUNDLED if n in have]
        notes += [f"{_DEMO_LABELS[n]} weights are not shipped yet ({n})" for n in BUNDLED if n not in have]
    models, scale = _load_all(names, device)
    scale = scale or _DEMO_SCALE
    # the most textured window; lr: its MATLAB bicubic 1/scale (section 3.1)
    hr, lr, (top, left, _) = held_out_pair(args.image, args.size, scale)
    images = {"bicubic": bicubic_upscaler(scale)(lr)}
    for label, model in models.items():
        images[label] = upscale_array(model, lr)
    images["original"] = hr
    scores = {}
    print(f"{args.image}: {hr.shape[1]}x{hr.shape[0]} HR crop at (top {top}, left {left}), the most textured window, "
          f"x{scale} from {lr.shape[1]}x{lr.shape[0]} (PSNR/SSIM on Y, {scale} px border, paper flavour)")
    for label, img in images.items():
        if label == "original":
            continue
        p = float(psnr(img, hr, crop_border=scale, flavour="paper"))
        q = float(ssim(img, hr, crop_border=scale, flavour="paper"))
        scores[label] = f"{p:.2f} dB / {q:.4f}"
        print(f"  {label:<12} {p:6.2f} dB  {q:.4f}")
    for note in notes:
        print(f"  note: {note}")
    _save_figure(images, scores, out, args.overwrite, title=f"x{scale} super-resolution of '{args.image}' (held out)",
                 note="; ".join(notes) or None)
    print(f"figure: {out}")
    return EXIT_OK


def _save_figure(images, scores, out, overwrite: bool, title: str, note: str | None) -> None:
    """Render a comparison figure and write it with :func:`srgan_lib.plumbing.files.save_image` (atomic, no
    silent overwrite)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from .files import save_image
    from ..figures.viz import comparison_figure

    fig = comparison_figure(images, scores=scores, title=title, note=note)
    try:
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())  # (H, W, 4)
        save_image(out, np.ascontiguousarray(rgba[..., :3]), overwrite=overwrite)
    finally:
        plt.close(fig)


# --- srgan upscale -------------------------------------------------------------------------------


def _add_upscale(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _example("srgan upscale photo.jpg -o photo_x4.png",
                             "srgan upscale photos/ more.png -o upscaled/ --weights srgan_mse_x4",
                             "srgan upscale big.tif -o out/ --tile 256 --device cuda")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders (searched recursively)")
    parser.add_argument("-o", "--out", required=True,
                        help="output file (one input file) or folder (created if missing)")
    parser.add_argument("--weights", type=weights_name,
                        help="bundled name (srresnet_x4, srgan_mse_x4) or a .safetensors/.pt path "
                             "(default: the first bundled weights present)")
    parser.add_argument("--scale", type=int, help="refuse weights of another scale")
    parser.add_argument("--tile", default="auto",
                        help="LR tile side in pixels, 'auto' (from the memory budget, default) or 'none'")
    parser.add_argument("--overlap", type=int,
                        help="context around each tile in LR pixels (default: the receptive field, 40 for x4; "
                             "less is faster but changes the output near tile edges)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (two inputs that would write the same name are "
                             "refused even then)")
    parser.add_argument("--max-megapixels", type=finite_number, metavar="M", default=None,
                        help="refuse inputs above M megapixels (default 16: a 4096 x 4096 input, whose x4 output "
                             "is 805 MB; 0: no limit)")
    parser.add_argument("--device", default="auto", help="auto (default: CUDA, then MPS, then CPU), cpu, cuda, mps")
    parser.add_argument("--precision", default="auto", choices=("auto", "float32", "bf16", "fp16"),
                        help="auto (default): the hardware's fast precision, about a grey level from float32: "
                             "on CUDA bf16 where native, else fp16; on a CPU with AMX bf16; else float32. Or as named")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _input_images(folder, skip):
    """Image files below ``folder`` (sorted, hidden ones skipped, GIF included), leaving out the
    folder ``skip`` (the output folder, so a second run does not upscale its own outputs)."""
    from .files import IMAGE_SUFFIXES, find_images

    try:
        return find_images(folder, suffixes=IMAGE_SUFFIXES | {".gif"}, skip=skip)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None


def _upscale_jobs(inputs, out):
    """``([(src, dst)], single)``: one input file and an ``out`` with an image suffix -> ``out`` is the
    output file (``single``); otherwise ``dst`` is the folder to write into (folders keep their
    sub-folders inside ``out``; the output folder itself is never read as input)."""
    from pathlib import Path

    from .files import IMAGE_SUFFIXES, SAVE_FORMATS

    out = Path(out)
    for item in inputs:
        if not Path(item).exists():
            raise CommandError(f"{item}: no such file or folder")
    suffix = out.suffix.lower()
    file_like = bool(suffix) and not out.is_dir() and suffix in IMAGE_SUFFIXES | {".gif"}
    single = len(inputs) == 1 and Path(inputs[0]).is_file() and file_like
    if single and suffix not in SAVE_FORMATS:
        raise CommandError(f"-o {out}: cannot write {suffix} files; use one of {', '.join(sorted(SAVE_FORMATS))}")
    if file_like and not single:
        raise CommandError(f"-o {out}: looks like a file name, but several images (or a folder) need an output "
                           "folder; pass a folder name")
    skip = out.resolve()
    jobs = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            if p.resolve() == skip:
                raise CommandError(f"{p}: is also the output folder (-o); outputs would mix with the inputs, "
                                   "choose another -o")
            jobs += [(f, out / f.relative_to(p).parent) for f in _input_images(p, skip)]
        else:
            jobs.append((p, out))
    unique = {}
    for src, dst in jobs:  # the same file named twice is upscaled once
        unique.setdefault(src.resolve(), (src, dst))
    return list(unique.values()), single


def _plan_outputs(jobs, single: bool, out, scale: int, overwrite: bool):
    """``[(src, dst_file)]``, checked before any work: no two inputs may write the same file (not even
    with --overwrite: one result would silently replace the other), no output may be an input, and every
    output folder must be writable (created if missing, except the folder of a single -o file; stale
    temporary files of killed writes removed)."""
    from .files import remove_stale_temps
    from .upscale import output_name

    planned = [(src, out if single else dst / output_name(src, scale, has_alpha=False)) for src, dst in jobs]
    seen, inputs = {}, {src.resolve() for src, _ in planned}
    for src, dst in planned:
        key = os.path.normcase(str(dst.resolve())).lower()  # a.png and A.PNG clash on macOS/Windows
        if key in seen:
            raise CommandError(f"{seen[key]} and {src} would both be written to {dst}; rename one or upscale "
                               "them separately (nothing was written)")
        seen[key] = src
        if dst.resolve() in inputs:
            raise CommandError(f"{dst}: is one of the inputs; choose another -o (nothing was written)")
    folders = sorted({dst.parent for _, dst in planned})
    for folder in folders:
        if single and not folder.is_dir():  # -o names a file: its folder is not made up
            kind = "is not a folder" if folder.exists() else "does not exist"
            raise CommandError(f"{out}: the output folder {folder} {kind}; create it or choose another -o")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"{folder}: cannot create the output folder ({exc.strerror or exc}); "
                               "choose a writable place with -o") from exc
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CommandError(f"{folder}: the output folder is not writable; choose another -o or change "
                               "its permissions (nothing was written)")
        remove_stale_temps(folder, [dst.name for _, dst in planned if dst.parent == folder])
    return planned


def _duration(seconds: float) -> str:
    """``42 s``, ``3.5 min`` or ``1.2 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


#: Output pixels from which ``srgan upscale`` prints an estimate and a progress bar per image.
LARGE_OUTPUT = 16_000_000


#: A chosen ``--tile`` that makes an image this many times more work than ``--tile auto``, and at least
#: :data:`SLOW_SECONDS` long, is warned about (with the estimate) before the work.
SLOW_TILE_FACTOR, SLOW_SECONDS = 4.0, 60.0


def _warn_slow_tile(src, model, h: int, w: int, tile, overlap) -> None:
    """Warn, with the estimate, when the chosen ``--tile`` makes upscaling ``src`` long (``--tile 1``: hours)."""
    from .upscale import estimate_seconds, tile_slowdown

    if not isinstance(tile, int):
        return
    factor = tile_slowdown(model, h, w, tile, overlap)
    if factor < SLOW_TILE_FACTOR:
        return
    seconds = estimate_seconds(model, h, w, tile=tile, overlap=overlap)
    if seconds >= SLOW_SECONDS:
        warnings.warn(f"{src}: --tile {tile} recomputes the context around every tile: expected about "
                      f"{_duration(seconds)}, {factor:.0f} times --tile auto's {_duration(seconds / factor)}; "
                      "pass a larger --tile (or auto)")


def _progress(src, quiet: bool, model, scale: int, tile, overlap):
    """For a large image (:data:`LARGE_OUTPUT` pixels or more): print an estimate before the work and return a
    ``progress(done, total)`` callback that shows a bar of the output pixels done, updated after each tile.
    ``None`` for small images (or ``quiet``). A ``tile`` that makes the work long is warned about first."""
    from tqdm.auto import tqdm

    from .files import image_size
    from .upscale import estimate_seconds, plan_tiles

    try:
        h, w = image_size(src)
    except (ValueError, OSError):
        return None  # upscale_file reports it
    _warn_slow_tile(src, model, h, w, tile, overlap)
    s = scale
    total = h * w * s * s
    if quiet or total < LARGE_OUTPUT:
        return None
    side = plan_tiles(model)[0] if tile == "auto" else (tile or max(h, w))
    seconds = estimate_seconds(model, h, w, tile=tile, overlap=overlap)
    print(f"{src}: {w}x{h} -> {w * s}x{h * s} ({total / 1e6:.1f} megapixels, {total * 3 / 1e9:.2f} GB), "
          f"{math.ceil(h / side) * math.ceil(w / side)} tiles of {side} LR pixels; expected about "
          f"{_duration(seconds)} on {next(model.parameters()).device.type} (timed on a 64x64 probe)", file=sys.stderr)
    bar = tqdm(total=total, unit="px", unit_scale=True, desc=src.name, leave=False, mininterval=0, miniters=1)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return progress


def _file_problem(src, exc: BaseException) -> str:
    """One line saying why ``src`` failed: the library's message (which names the file), else the file, the
    exception's type and its message."""
    message = " ".join(str(exc).split())
    if not isinstance(exc, (ValueError, OSError)):
        message = f"{type(exc).__name__}: {message}"
    return message if str(src) in message else f"{src}: {message}"


def _run_upscale(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm.auto import tqdm

    import torch

    from ..models import scale_of
    from .runtime import inference_dtype
    from .upscale import MAX_MEGAPIXELS, upscale_file

    tile = args.tile.lower()
    if tile not in ("auto", "none") and not (tile.isdigit() and int(tile) >= 1):
        raise CommandError(f"--tile {args.tile!r}: use a number of LR pixels (1 or more), 'auto' or 'none'")
    tile = None if tile == "none" else (tile if tile == "auto" else int(tile))
    if args.overlap is not None and not 0 <= args.overlap <= 1024:
        raise CommandError(f"--overlap {args.overlap}: use 0 to 1024 LR pixels (default: the receptive field)")
    limit = MAX_MEGAPIXELS if args.max_megapixels is None else args.max_megapixels
    if limit < 0:
        raise CommandError(f"--max-megapixels {args.max_megapixels:g}: use a positive number, or 0 for no limit")
    _check_device(args.device)
    jobs, single = _upscale_jobs(args.inputs, args.out)
    out = Path(args.out)
    if not single and out.exists() and not out.is_dir():
        raise CommandError(f"{out}: exists and is not a folder; pass a folder for several images")
    model = _load(args.weights or _default_weights(), _device(args.device), args.scale)
    device = next(model.parameters()).device
    dtype = inference_dtype(device, args.precision)
    if dtype != torch.float32:
        model = model.to(dtype)  # the inference copy folds BN in float32, then casts (upscale.inference_copy)
        if not args.quiet:
            print(f"precision: {str(dtype).removeprefix('torch.')} on {device}", file=sys.stderr)
    scale = scale_of(model)
    planned = _plan_outputs(jobs, single, out, scale, args.overwrite)
    failures, kept = [], []
    bar = tqdm(planned, unit="image", disable=args.quiet or len(planned) < 2, desc="upscale")
    for src, dst in bar:
        if not single and not args.overwrite and dst.exists():  # an earlier (interrupted?) run's output: kept
            kept.append(dst)
            continue
        try:
            upscale_file(model, src, dst, overwrite=args.overwrite, tile=tile, overlap=args.overlap,
                         max_megapixels=limit, progress=_progress(src, args.quiet, model, scale, tile, args.overlap))
        except Exception as exc:  # noqa: BLE001 - a bad file is listed and skipped, whatever the library raised
            if len(planned) == 1:
                if isinstance(exc, (ValueError, OSError, RuntimeError)):
                    raise  # main() reports it in one line
                raise CommandError(_file_problem(src, exc)) from exc
            failures.append(src)
            tqdm.write(f"{PROG} upscale: skipped {_file_problem(src, exc)}", file=sys.stderr)
            continue
        if len(planned) == 1 and not args.quiet:
            print(dst)
    bar.close()
    written = len(planned) - len(failures) - len(kept)
    note = f"kept {len(kept)} existing outputs (pass --overwrite to redo them)" if kept else ""
    if failures:
        raise CommandError(f"{len(failures)} of {len(planned)} images failed (listed above); {written} written to "
                           f"{out}" + (f"; {note}" if note else ""))
    if note:
        print(f"{PROG} upscale: {note}", file=sys.stderr)
    if len(planned) > 1 and not args.quiet:
        print(f"{written} images written to {out}")
    return EXIT_OK


# --- srgan train ---------------------------------------------------------------------------------


def _add_train(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _example(
        "srgan train --preset cpu --data ~/DIV2K --val Set5 --out runs/srresnet",
        "srgan train --mode srgan --preset colab --data ~/DIV2K   (G starts from the bundled srresnet_x4)",
        "srgan train --mode srgan --preset colab --data ~/DIV2K --init runs/srresnet/generator.safetensors",
        "torchrun --nproc_per_node=4 -m srgan_lib train --preset paper --data ~/DIV2K   (several GPUs)",
        "Ctrl-C saves last.pt; the same command again resumes from it.")
    parser.add_argument("--preset", required=True, help="quick, cpu, colab or paper (see srgan_lib.presets.PRESETS)")
    parser.add_argument("--data", help="folder of HR training images (searched recursively); default "
                        "$SRGAN_TRAIN_DATA, else DIV2K (found in the data roots, or downloaded for --preset colab "
                        "or paper when online), else the two bundled photographs (a toy run)")
    parser.add_argument("--mode", default="srresnet", choices=("srresnet", "srgan"), help="default srresnet")
    parser.add_argument("--out", help="run folder: last.pt, generator.safetensors (default runs/MODE-PRESET)")
    parser.add_argument("--steps", type=int, help="total steps (default: the preset's)")
    parser.add_argument("--init", "--init-generator", dest="init_generator", metavar="WEIGHTS", type=weights_name,
                        help="SRGAN: generator weights to start from, a bundled name or .safetensors (default "
                             "srresnet_x4, as section 3.2 starts from the MSE SRResNet); none: random weights")
    parser.add_argument("--val", help="validation set name or folder, e.g. Set5 (default: none)")
    parser.add_argument("--root", help="datasets root for --val (default: search $SRGAN_DATA, ~/.cache/srgan, a checkout's ../shared/datasets)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any other TrainConfig field, e.g. --set batch_size=8 --set n_blocks=4 (repeatable)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a generator.safetensors in --out that no run in this folder wrote")
    parser.add_argument("--skip-small", action="store_true", help="skip training images smaller than the crop "
                        "(default: refuse them)")
    parser.add_argument("--allow-toy-data", action="store_true",
                        help="let --preset colab or paper train on the two bundled photographs (refused by default: "
                             "a toy run of hours that looks like a real one)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, mps")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _parse_overrides(pairs) -> dict:
    import dataclasses

    from ..train import TrainConfig

    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    defaults = TrainConfig()
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in fields:
            raise CommandError(f"--set {pair!r}: use KEY=VALUE with KEY one of {', '.join(sorted(fields))}")
        if key == "mode":
            raise CommandError(f"--set {pair!r}: the mode has its own option, --mode srresnet or --mode srgan")
        kind = type(getattr(defaults, key))
        try:
            if kind is bool:
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                out[key] = value.lower() in ("1", "true", "yes", "on")
            elif kind in (int, float):
                out[key] = kind(value)
            elif value.lower() == "none":
                out[key] = None
            elif "float" in str(fields[key].type):  # a number or a word: lr_d=1e-5, vgg_rescale=0.02 | auto
                try:
                    out[key] = float(value)
                except ValueError:
                    out[key] = value
            else:
                out[key] = value
        except ValueError:
            raise CommandError(f"--set {pair!r}: {key} needs a {kind.__name__}") from None
    return out


def _warn_changed_options(last, saved_config, config) -> None:
    """A resumed run continues the saved one (``saved_config``, read by the Trainer from ``last``): warn
    when this command asks for other options (a new seed, for one, has no effect: the saved random state
    is restored). Not warned about: ``steps`` (a resume may extend a run) and the architecture, which the Trainer
    refuses to change."""
    import dataclasses

    saved = dataclasses.asdict(saved_config)
    unwarned = ("steps", *type(config).ARCHITECTURE)
    changed = [f"{k} {saved[k]!r} -> {v!r}" for k, v in dataclasses.asdict(config).items()
               if k in saved and k not in unwarned and saved[k] != v]
    if changed:
        new_seed = saved.get("seed", config.seed) != config.seed
        why = "; the new seed has no effect (the saved random state is restored)" if new_seed else ""
        warnings.warn(f"resuming {last}, which was started with other options: {', '.join(changed)}{why}; "
                      "use another --out to start a new run")


DEFAULT_SRGAN_INIT = "srresnet_x4"  # what `srgan train --mode srgan` starts G from without --init


def _check_default_init(config) -> None:
    """The bundled SRResNet fits only the paper's generator; say how to start another one."""
    from .checkpoint import read_weights

    _, meta = read_weights(config.init_generator)
    for key in ("scale", "n_blocks", "channels"):
        if key in meta and meta[key] != getattr(config, key):
            raise CommandError(f"--mode srgan starts from the bundled {DEFAULT_SRGAN_INIT} ({key}={meta[key]}), but this "
                               f"run has {key}={getattr(config, key)}; pass --init WEIGHTS that fit, or --init none "
                               "for random weights")


#: Presets that exist to train a real model: they refuse the bundled toy photographs unless --allow-toy-data.
REAL_DATA_PRESETS = ("colab", "paper")


def _content_vgg(config, quiet: bool):
    """The VGG19 feature network of a VGG content loss, built before any data is touched (``None`` for pixel MSE):
    offline without the cached ImageNet weights this fails in seconds with what to do, not after a DIV2K download."""
    if config.content == "mse":
        return None
    from ..vgg import VGGFeatures

    return VGGFeatures(layer=config.content, weights=config.vgg_weights, seed=config.seed, progress=not quiet)


def _run_train(args: argparse.Namespace) -> int:
    import warnings
    from pathlib import Path

    from ..data import load_eval_set
    from .provenance import data_facts
    from .runs import run
    from .train_data import ToyDataWarning, training_images
    from .runtime import describe_device
    from ..train import preset

    _check_device(args.device)
    overrides = _parse_overrides(args.set)
    if args.steps is not None:
        overrides["steps"] = args.steps
    init = args.init_generator
    default_init = init is None and args.mode == "srgan" and "init_generator" not in overrides
    if default_init:
        init = DEFAULT_SRGAN_INIT  # section 3.2: SRGAN starts from the MSE-trained SRResNet
    if init is not None and init.strip().lower() == "none":
        overrides["init_generator"] = None  # the explicit way to start from random weights
    elif init is not None:
        if args.mode != "srgan":
            raise CommandError("--init is for --mode srgan (SRGAN starts from SRResNet weights)")
        from .weights import resolve

        overrides["init_generator"] = str(resolve(init))
    config = preset(args.mode, args.preset, **overrides)
    if default_init:
        _check_default_init(config)
    out = Path(args.out or f"runs/{args.mode}-{args.preset}")
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out}: exists and is not a folder; choose another --out")
    vgg = _content_vgg(config, args.quiet)  # before any download: no VGG19, no run (seconds, not a DIV2K download)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToyDataWarning)  # images.source says it in the run's summary below
        images = training_images(args.data, download=None if args.preset in REAL_DATA_PRESETS else False,
                                 progress=not args.quiet)
    if images.toy and args.preset in REAL_DATA_PRESETS and not args.allow_toy_data:
        raise CommandError(f"--preset {args.preset} refuses the two bundled photographs ({images.source.split(': ')[-1]}"
                           f"); pass --data DIR, run srgan download DIV2K-train, or --allow-toy-data for a code check")
    try:
        data = images.patch_dataset(config.crop, config.scale, config.seed, skip_small=args.skip_small,
                                    progress=not args.quiet)
    except ValueError as exc:  # the library's advice names its keyword; the command's is a flag
        raise CommandError(str(exc).replace("pass skip_small=True", "pass --skip-small")) from exc
    val = load_eval_set(args.val, config.scale, args.root).tensors() if args.val else ()
    def on_start(trainer, note: str) -> None:  # what is about to run, said before the first step (rank 0)
        resumed = trainer.resumed_config is not None  # the checkpoint is read once, by the Trainer
        if trainer.engine.rank != 0:
            return
        if resumed:
            _warn_changed_options(out / "last.pt", trainer.resumed_config, config)
        if config.mode == "srgan" and not resumed:
            start = (f"the bundled {DEFAULT_SRGAN_INIT} (section 3.2; --init none for random weights)" if default_init
                     else Path(config.init_generator).name if config.init_generator else "random weights (--init none)")
            print(f"generator starts from {start}", flush=True)
        what = f"resuming {out / 'last.pt'} at step {trainer.step}" if resumed else f"new run in {out}"
        procs = f" x {trainer.engine.world} processes (DDP)" if trainer.engine.world > 1 else ""
        print(f"{config.mode} / {args.preset}: {what}, {config.steps} steps of batch {config.batch_size}{procs}, "
              f"{len(data.names)} training images, loss: {trainer.loss_label}", flush=True)
        source = images.source.replace("allow the DIV2K download (download=True)", "run srgan download DIV2K-train")
        print(f"training data: {source}", flush=True)  # the library names its keyword, the command its command
        print(f"device: {describe_device(trainer.device)}; precision: {trainer.engine.precision}", flush=True)

    try:  # lock, resume (never replacing the folder's checkpoint), fit, export, DDP teardown
        trainer, path = run(config, data, out, replace=False, overwrite=args.overwrite, on_start=on_start,
                            val_pairs=val, device=None if args.device == "auto" else args.device,
                            progress=not args.quiet, vgg_extractor=vgg,
                            facts={"preset": args.preset, **data_facts(images)})
    except FileExistsError as exc:  # the library's advice names its keyword; the command's is a flag
        raise CommandError(str(exc).replace("pass overwrite=True", "pass --overwrite").replace(
            "another folder", "another --out")) from None
    if trainer.engine.rank == 0:
        last = next((h for h in reversed(trainer.history) if "val_psnr" in h), None)
        score = f", val PSNR {last['val_psnr']:.2f} dB (at step {last['step']})" if last else ""
        print(f"done at step {trainer.step}{score}; weights: {path}")
    return EXIT_OK


# --- srgan evaluate ------------------------------------------------------------------------------


def _add_evaluate(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _example("srgan evaluate --weights srresnet_x4 --sets Set5 Set14 BSD100",
                             "srgan evaluate --weights runs/srresnet/generator.safetensors --sets Set5 --format csv")
    parser.add_argument("--weights", nargs="+", default=None, metavar="W", type=weights_name,
                        help="bundled names or paths (default: every bundled weight present)")
    parser.add_argument("--sets", nargs="+", default=["Set5", "Set14", "BSD100"], metavar="SET",
                        help="dataset names or folders of HR images (default Set5 Set14 BSD100)")
    parser.add_argument("--root", help="datasets root, searched alone (default: $SRGAN_DATA, ~/.cache/srgan, a "
                        "checkout's ../shared/datasets, in that order; downloads go to the first of the two)")
    parser.add_argument("--format", default="text", choices=("text", "csv", "json"), help="default text")
    parser.add_argument("--flavour", default="both", choices=("paper", "standard", "both"),
                        help="metric protocol: the paper's (Table 2) or the VDSR/EDSR-era one (default both)")
    parser.add_argument("--no-bicubic", action="store_true", help="leave out the bicubic baseline")
    parser.add_argument("--limit", type=int, help="only the first N images of each set")
    parser.add_argument("--download", action="store_true", help="download missing datasets")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, mps")


def _run_evaluate(args: argparse.Namespace) -> int:
    import csv
    import json

    from ..data import load_eval_set
    from .evaluate import bicubic_upscaler, evaluate, format_table, model_upscaler
    from ..metrics import FLAVOURS
    from .weights import available

    if args.limit is not None and args.limit < 1:
        raise CommandError(f"--limit {args.limit}: use a number of images >= 1 (or leave it out for every image)")
    names = args.weights or list(available())
    if not names:
        raise CommandError("no bundled weights in this installation; pass --weights PATH")
    device = _device(args.device)
    models, scale = _load_all(names, device)
    shown = sys.stdout if args.format == "text" else sys.stderr  # csv/json stay machine-readable on stdout
    for name in names:
        lines = _provenance_lines(name)
        known = [ln for ln in lines if not ln.startswith("NOTE") and "SHA-256" not in ln and not ln.endswith(": unknown")]
        print(f"{name}: " + ("; ".join(known) or "no provenance recorded (a file written before it existed)"),
              file=shown)
        for note in (ln for ln in lines if ln.startswith("NOTE")):
            print(f"  {note}", file=shown)
    upscalers = {} if args.no_bicubic else {"bicubic": bicubic_upscaler(scale)}
    upscalers.update({label: model_upscaler(m, tile="auto") for label, m in models.items()})
    sets = {}
    for name in args.sets:
        s = load_eval_set(name, scale, args.root, download=args.download, limit=args.limit)
        sets[s.name] = s
    flavours = FLAVOURS if args.flavour == "both" else (args.flavour,)
    rows = evaluate(upscalers, sets, flavours=flavours, scale=scale)  # crop and grid period: the scale
    if args.format == "text":
        print(format_table(rows))
    elif args.format == "json":
        print(json.dumps([{**r, "paper": list(r["paper"]) if r["paper"] else None} for r in rows], indent=2))
    else:
        writer = csv.writer(sys.stdout)
        writer.writerow(["method", "dataset", "flavour", "psnr", "ssim", "grid", "niqe", "paper_psnr", "paper_ssim"])
        for r in rows:
            p = r["paper"] or ("", "")
            writer.writerow([r["method"], r["dataset"], r["flavour"], f"{r['psnr']:.4f}", f"{r['ssim']:.6f}",
                             f"{r['grid']:.4f}", "" if r["niqe"] is None else f"{r['niqe']:.4f}", p[0], p[1]])
    return EXIT_OK


# --- srgan download ------------------------------------------------------------------------------


def _add_download(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _example("srgan download Set5 Set14 BSD100", "srgan download --list")
    parser.add_argument("names", nargs="*", metavar="NAME", help="datasets (see --list)")
    parser.add_argument("--root", help="data root (default $SRGAN_DATA, else ~/.cache/srgan)")
    parser.add_argument("--force", action="store_true", help="download again even if present")
    parser.add_argument("--list", action="store_true", help="list the datasets and where they would go")


def _run_download(args: argparse.Namespace) -> int:
    from . import download as dl

    if args.list or not args.names:
        return dl.main(["--list"] + (["--root", args.root] if args.root else []))
    for name in args.names:
        spec = dl.REGISTRY[dl.resolve_name(name)]
        try:
            print(dl.download_spec(spec, args.root, force=args.force))
        except dl.DownloadError as exc:  # one line: the URL once, then what to do
            message = str(exc).replace("pass force=True", "pass --force")
            raise CommandError(f"{message}; {dl.manual_hint(spec.name, args.root)}") from exc
    return EXIT_OK


# --- the registry: the one place that lists the subcommands ---------------------------------------

COMMANDS: tuple[Command, ...] = (
    Command("demo", "compare bicubic and the shipped weights on a picture", _add_demo, _run_demo),
    Command("upscale", "upscale images or folders (tiled; from 9x9 pixels up)", _add_upscale, _run_upscale),
    Command("train", "train SRResNet or SRGAN (resumable, torchrun-ready)", _add_train, _run_train),
    Command("evaluate", "PSNR/SSIM on Set5/Set14/BSD100 beside Table 2", _add_evaluate, _run_evaluate),
    Command("download", "download evaluation and training datasets", _add_download, _run_download),
    Command("info", "print versions and the device the tutorial would use", _add_info, _run_info),
)


def build_parser() -> argparse.ArgumentParser:
    """The ``srgan`` parser with every registered subcommand."""
    parser = _Parser(
        prog=PROG,
        description="SRGAN (Ledig et al., CVPR 2017, arXiv:1609.04802), step by step: the tutorial's command line.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, description=command.help,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_arguments(p)
        p.set_defaults(_run=command.run)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ARG001
    """Warnings during a command: one line on stderr, without the source line."""
    print(f"{PROG}: warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``srgan`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args._run(args) or EXIT_OK)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CommandError, ValueError, OSError, RuntimeError) as exc:
        if os.environ.get("SRGAN_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__  # one line, whatever the message
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return EXIT_FAILURE
