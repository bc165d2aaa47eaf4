"""Training patches and sample images (paper section 3.2: 16 random 96 x 96 HR sub-images per batch).

A training pair is a random HR crop (uint8 in memory, so decoding happens once) and its LR made on the
fly by the fast torch bicubic path (``antialias=True``). Randomness is derived from ``(seed, index)``,
so sample ``i`` is the same crop whatever the worker count or whether the run was resumed: the
training engine only has to remember how many samples it has consumed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

HR_CROP = 96  # section 3.2
SCALE = 4  # section 3.2

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


def read_rgb(path: str | Path) -> np.ndarray:
    """Read any common image file as ``(H, W, 3)`` uint8 RGB, honouring EXIF orientation."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, dtype=np.float64)
                peak = 65535.0 if arr.max() > 255 else 255.0
                arr = np.clip(np.round(arr / peak * 255.0), 0, 255).astype(np.uint8)
                return np.repeat(arr[..., None], 3, axis=2)
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable image ({exc})") from exc


def find_images(folder: str | Path) -> list[Path]:
    """All image files below ``folder`` (recursively), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"{folder}: no image files found (looked for {sorted(IMAGE_SUFFIXES)})")
    return files


class PatchDataset(Dataset):
    """Random ``crop x crop`` HR patches and their ``crop/scale`` LR, from images held in memory.

    Item ``i`` returns ``(lr, hr)``: ``lr`` (3, crop/scale, crop/scale) in [0, 1] and ``hr`` (3, crop, crop)
    in [0, 1] (the engine maps HR to [-1, 1]). Images are chosen with probability proportional to their
    area. ``length`` is nominal: any non-negative index is valid.
    """

    def __init__(
        self,
        images: Sequence[np.ndarray],
        crop: int = HR_CROP,
        scale: int = SCALE,
        augment: bool = True,
        seed: int = 0,
        length: int = 10**9,
        names: Sequence[str] | None = None,
    ) -> None:
        if crop % scale:
            raise ValueError(f"crop {crop} must be a multiple of the scale {scale}")
        names = list(names) if names is not None else [f"image {k}" for k in range(len(images))]
        kept = []
        for img, name in zip(images, names):
            if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
                raise ValueError(f"{name}: expected (H, W, 3) uint8, got {img.dtype} {img.shape}")
            if img.shape[0] < crop or img.shape[1] < crop:
                raise ValueError(f"{name}: {img.shape[1]}x{img.shape[0]} is smaller than the {crop}x{crop} crop")
            kept.append(np.ascontiguousarray(img))
        if not kept:
            raise ValueError("no training images")
        self.images = kept
        self.crop, self.scale, self.augment, self.seed, self.length = crop, scale, augment, seed, length
        areas = np.array([im.shape[0] * im.shape[1] for im in kept], dtype=np.float64)
        self.cum = np.cumsum(areas / areas.sum())

    @classmethod
    def from_folder(cls, folder: str | Path, **kwargs) -> "PatchDataset":
        files = find_images(folder)
        return cls([read_rgb(f) for f in files], names=[str(f) for f in files], **kwargs)

    def __len__(self) -> int:
        return self.length

    def hr_patch(self, index: int) -> np.ndarray:
        """The uint8 HR crop of item ``index`` (deterministic in ``seed`` and ``index``)."""
        rng = np.random.default_rng([self.seed, index])
        k = min(int(np.searchsorted(self.cum, rng.random())), len(self.images) - 1)
        img = self.images[k]
        top = int(rng.integers(0, img.shape[0] - self.crop + 1))
        left = int(rng.integers(0, img.shape[1] - self.crop + 1))
        patch = img[top : top + self.crop, left : left + self.crop]
        if self.augment:
            if rng.random() < 0.5:
                patch = patch[:, ::-1]
            patch = np.rot90(patch, int(rng.integers(0, 4)))
        return np.ascontiguousarray(patch)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        hr = torch.from_numpy(self.hr_patch(index)).permute(2, 0, 1).float().div_(255.0)  # (3, crop, crop)
        lr = F.interpolate(hr[None], scale_factor=1 / self.scale, mode="bicubic", antialias=True,
                           align_corners=False)[0].clamp_(0, 1)  # (3, crop/scale, crop/scale)
        return lr, hr
