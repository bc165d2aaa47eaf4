"""Plumbing, not part of the lesson: where the code runs, the quick-run switch, device choice, mixed precision,
Colab detection, seeding, and a cache that computes a notebook's results once.

Every notebook reads :func:`quick_mode` once, in its cell tagged ``parameters``. The quick run
(``SRGAN_QUICK=1``, set by the test configuration) shrinks sizes and step counts; it never skips a
code path.

Environment overrides (documented for the Colab rehearsal test, ``tests/test_colab_rehearsal.py``, and for anyone
who wants to try the Colab path elsewhere):

- ``SRGAN_COLAB=1``: act as on Colab (:func:`in_colab`), with a ``google.colab`` module importable (the test puts a
  stub on the path);
- ``SRGAN_GPU_CONFIG=1``: the notebooks take their GPU configuration (presets, content loss, progress bars) on any
  device (:func:`gpu_config`);
- ``SRGAN_DRIVE_MOUNT=DIR``: where Google Drive is mounted (default ``/content/drive``; :func:`drive_folder`).
"""

from __future__ import annotations

import functools
import os
import random
import sys
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np
import torch

QUICK_ENV = "SRGAN_QUICK"
COLAB_ENV, GPU_CONFIG_ENV, DRIVE_MOUNT_ENV = "SRGAN_COLAB", "SRGAN_GPU_CONFIG", "SRGAN_DRIVE_MOUNT"
DRIVE_MOUNT = "/content/drive"  # where Colab mounts Google Drive
DRIVE_FOLDER = "srgan-tutorial"  # this tutorial's folder in MyDrive: run folders that survive a recycled runtime
In = TypeVar("In")
Out = TypeVar("Out")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def quick_mode() -> bool:
    """True when ``SRGAN_QUICK`` is set to a true value (``1``, ``true``, ``yes``, ``on``)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def in_colab() -> bool:
    """True inside a Google Colab runtime (or with ``SRGAN_COLAB=1``, the rehearsal's override)."""
    return "google.colab" in sys.modules or _env_flag(COLAB_ENV)


def gpu_config(device: torch.device | str) -> bool:
    """Whether a notebook takes its GPU configuration: on CUDA, or with ``SRGAN_GPU_CONFIG=1`` on any device (the
    rehearsal test runs the Colab path on a CPU, with a handful of steps)."""
    return torch.device(device).type == "cuda" or _env_flag(GPU_CONFIG_ENV)


def drive_folder() -> Path | None:
    """On Colab: Google Drive mounted (once; Colab asks for permission) and this tutorial's folder in it,
    ``MyDrive/srgan-tutorial`` (created). Elsewhere ``None``. Run folders there survive a recycled runtime; downloads
    and extracted data stay on the runtime's local disk (``~/.cache/srgan``), which is faster and spares the quota."""
    if not in_colab():
        return None
    mountpoint = Path(os.environ.get(DRIVE_MOUNT_ENV, DRIVE_MOUNT))
    if not (mountpoint / "MyDrive").is_dir():
        from google.colab import drive  # Colab's own module

        drive.mount(str(mountpoint))
    folder = mountpoint / "MyDrive" / DRIVE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def runs_root(drive: bool = True) -> Path:
    """Where notebooks keep their run folders: ``MyDrive/srgan-tutorial/runs`` on Colab with ``drive`` (mounted by
    :func:`drive_folder`), else ``runs`` beside the notebooks."""
    folder = drive_folder() if drive else None
    return folder / "runs" if folder is not None else Path("runs")


def pick_device(preferred: str | None = None) -> torch.device:
    """The device to use: ``preferred`` if given (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``),
    otherwise CUDA when available, then Apple's MPS, then the CPU."""
    if preferred and preferred != "auto":
        device = torch.device(preferred)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {preferred!r} was asked for, but CUDA is not available here")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def configure_backends(device: torch.device | str) -> None:
    """Backend settings for training on ``device``: on CUDA, ``cudnn.benchmark`` (cuDNN times its convolution
    algorithms once per input shape and keeps the fastest; a training run's shapes never change)."""
    if torch.device(device).type == "cuda":
        torch.backends.cudnn.benchmark = True


def describe_device(device: torch.device) -> str:
    """A one-line description such as ``cuda: Tesla T4 (15.0 GiB)`` or ``cpu: 2 threads``."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"cuda: {props.name} ({props.total_memory / 2**30:.1f} GiB)"
    if device.type == "cpu":
        n = torch.get_num_threads()
        return f"cpu: {n} thread{'' if n == 1 else 's'}"
    return device.type


#: The first CUDA compute capability with bf16 arithmetic in hardware (Ampere, sm_80).
NATIVE_BF16_CAPABILITY = (8, 0)


def amp_dtype_for(device: torch.device | str, enabled: bool = True, cpu_bf16: bool = False) -> torch.dtype | None:
    """The autocast dtype for training on ``device``: bf16, fp16 or ``None`` (float32, no autocast).

    - CUDA with native bf16 (compute capability >= 8.0: A100, L4, H100, RTX 30xx and later): bf16. It has
      float32's exponent range, so no loss scaling is needed.
    - Older CUDA GPUs (Colab's free T4 is sm_75, V100 sm_70): fp16, which the engine pairs with one
      ``GradScaler`` per network. We test the capability ourselves: ``torch.cuda.is_bf16_supported()``
      answers True on a T4 too (its default ``including_emulation=True`` counts bf16 emulated in float32
      arithmetic), which would take the slow emulated path instead of the T4's fp16 tensor cores.
    - CPU with ``cpu_bf16=True`` and AMX (:func:`cpu_has_native_bf16`): bf16. Opt-in, not the default: AMX runs
      a step several times faster, but the shipped weights and the notebooks' by-hand checks are float32.
    - Otherwise (CPU, MPS, or ``enabled=False``): ``None``; the engine trains in float32 there.
    """
    device = torch.device(device)
    if enabled and cpu_bf16 and device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    if not enabled or device.type != "cuda":
        return None
    major_minor = torch.cuda.get_device_capability(device)
    return torch.bfloat16 if tuple(major_minor) >= NATIVE_BF16_CAPABILITY else torch.float16


#: The precisions ``srgan upscale --precision`` accepts, by name.
INFERENCE_DTYPES = {"float32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (Intel AMX tiles, Sapphire Rapids and later), which
    oneDNN uses for bf16 convolutions. Read with ``torch.cpu._is_amx_tile_supported`` (a private torch function:
    False where it is missing)."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(probe()) if probe is not None else False
    except RuntimeError:
        return False


def inference_dtype(device: torch.device | str, precision: str = "auto") -> torch.dtype:
    """The dtype a generator and its input take for upscaling on ``device``.

    ``"auto"``: the hardware's fast precision. On CUDA it is half precision, chosen as :func:`amp_dtype_for`
    chooses it for training (bf16 from compute capability 8.0, fp16 on a T4 or V100). On a CPU with AMX
    (:func:`cpu_has_native_bf16`) it is bf16, which AMX's matrix units run several times faster than float32.
    Elsewhere (other CPUs, MPS) it is float32. The half-precision image is within a few grey levels of float32's.
    ``"float32"``, ``"bf16"``, ``"fp16"``: as named, on any device (without AMX, bf16/fp16 convolutions on a CPU
    are slow).
    """
    device = torch.device(device)
    if precision == "auto":
        if device.type == "cpu":
            return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
        return amp_dtype_for(device) or torch.float32
    if precision not in INFERENCE_DTYPES:
        raise ValueError(f"precision {precision!r}: use auto, {', '.join(INFERENCE_DTYPES)}")
    return INFERENCE_DTYPES[precision]


def describe_precision(device: torch.device | str, dtype: torch.dtype | None) -> str:
    """One line saying which precision a run uses and why, e.g. ``fp16 autocast + GradScaler (cuda sm_75:
    no native bf16)``; for the start of a training run."""
    device = torch.device(device)
    if dtype is None:
        return f"float32 (no autocast on {device.type})" if device.type != "cuda" else "float32 (amp off)"
    if device.type == "cpu":
        return "bf16 autocast (cpu_bf16: this CPU has AMX)"
    major, minor = torch.cuda.get_device_capability(device)
    if dtype == torch.bfloat16:
        return f"bf16 autocast (cuda sm_{major}{minor}: native bf16)"
    return f"fp16 autocast + GradScaler (cuda sm_{major}{minor}: no native bf16)"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def once_per_input(fn: Callable[[In], Out]) -> Callable[[In], Out]:
    """``fn``, computed once per input object: a second call with the same object returns the first result.

    For a notebook that scores each method's output with several measures (notebook 05, section 4: PSNR, SSIM and
    NIQE in :func:`~srgan_lib.plumbing.evaluate.evaluate`, then the high-frequency ratio) without upscaling an
    image twice: wrap each upscaler, pass the wrapped ones to ``evaluate``, and call them again for the next measure.
    Inputs are told apart by identity, not value (arrays are not hashable): an equal copy is computed again. The
    cache keeps every input alive, so no other object can take its ``id`` while the wrapped function is in use.
    """
    results: dict[int, tuple[In, Out]] = {}  # id(input) -> (input, fn(input))

    @functools.wraps(fn)
    def cached(x: In) -> Out:
        if id(x) not in results:
            results[id(x)] = (x, fn(x))
        return results[id(x)][1]

    return cached
