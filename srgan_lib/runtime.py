"""Where the code runs: the quick-run switch, device choice, Colab detection and seeding.

Every notebook reads :func:`quick_mode` once, in its cell tagged ``parameters``. The quick run
(``SRGAN_QUICK=1``, set by the test configuration) shrinks sizes and step counts; it never skips a
code path.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch

QUICK_ENV = "SRGAN_QUICK"


def quick_mode() -> bool:
    """True when ``SRGAN_QUICK`` is set to a true value (``1``, ``true``, ``yes``, ``on``)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def in_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules


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


def describe_device(device: torch.device) -> str:
    """A one-line description such as ``cuda: Tesla T4 (15.0 GiB)`` or ``cpu: 2 threads``."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"cuda: {props.name} ({props.total_memory / 2**30:.1f} GiB)"
    if device.type == "cpu":
        return f"cpu: {torch.get_num_threads()} threads"
    return device.type


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
