"""Plumbing, not part of the lesson: the bundled sample pictures (used by the notebooks and the toy runs).

Seven freely licensed scikit-image pictures, stored in ``data/samples/`` (see ``data/README.md`` for
licences); when the repository is absent (a pip install) they come from scikit-image itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .files import read_rgb

#: The bundled pictures (scikit-image's data; licences in ``data/README.md``).
SAMPLE_NAMES = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass", "gravel")
#: Used (with Kodak24) to train the shipped SRResNet weights.
TRAINING_SAMPLES = ("chelsea", "rocket")
#: Never seen in training: use these for demonstrations.
HELD_OUT_SAMPLES = ("astronaut", "coffee", "brick", "grass", "gravel")
#: ``data/samples`` of the repository (absent in a pip install).
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "samples"
_SKIMAGE_FILES = {"rocket": "rocket.jpg"}  # the others are <name>.png in skimage/data


def _check_sample(name: str) -> str:
    if name not in SAMPLE_NAMES:
        raise ValueError(f"unknown sample {name!r}; choose one of {', '.join(SAMPLE_NAMES)}")
    return name


def sample_path(name: str) -> Path:
    """The file of a bundled sample: ``data/samples/<name>.png`` in the repository, else the file
    shipped inside scikit-image (same pixels through :func:`read_rgb`)."""
    _check_sample(name)
    local = SAMPLES_DIR / f"{name}.png"
    if local.is_file():
        return local
    import skimage.data

    path = Path(skimage.data.__file__).parent / _SKIMAGE_FILES.get(name, f"{name}.png")
    if not path.is_file():
        raise FileNotFoundError(f"sample {name!r}: neither {local} nor {path} exists")
    return path


def load_sample(name: str) -> np.ndarray:
    """A bundled sample image as ``(H, W, 3)`` uint8 (grayscale textures are replicated to RGB).

    Read from ``data/samples/`` when the repository is present, otherwise from ``skimage.data``
    directly; both give identical pixels (tested).
    """
    _check_sample(name)
    local = SAMPLES_DIR / f"{name}.png"
    if local.is_file():
        return read_rgb(local)
    import skimage.data

    img = np.asarray(getattr(skimage.data, name)(), dtype=np.uint8)  # (H, W) or (H, W, 3)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)  # (H, W) -> (H, W, 3)
    return np.ascontiguousarray(img)
