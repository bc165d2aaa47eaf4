"""Training patches and evaluation pairs (paper sections 3.1 and 3.2).

Training patches (:class:`PatchDataset`, section 3.2)
    "We trained all networks ... with 16 random 96 x 96 HR sub images of distinct training images"
    and LR made by bicubic downsampling with r = 4. A pair is a random HR crop and its LR made on the
    fly with torch's antialiased bicubic (the fast training path of :mod:`srgan_lib.resize`), in float,
    never rounded; a DataLoader batch is degraded at once (:func:`srgan_lib.resize.downscale_patches`). Item ``i``
    depends only on ``(seed, i)``, so it is the same whatever the worker count, batch composition or
    resume point. Where the decoded images are kept (memory, a memory-mapped file prepared once for
    large sets such as DIV2K, or decoded on demand) is :mod:`srgan_lib.plumbing.image_cache`'s business.

Which images a run trains on (a folder, DIV2K, or the bundled samples) is decided by
:func:`srgan_lib.plumbing.train_data.training_images` (plumbing).

Evaluation pairs (:func:`load_eval_set`, section 3.1)
    Set5, Set14, BSD100 (and Urban100, DIV2K validation, Kodak24, or any folder) as
    ``(name, lr, hr)`` uint8 triples: HR cropped to a multiple of the scale (top-left, "modcrop"),
    LR made with the MATLAB-era bicubic (:func:`srgan_lib.resize.matlab_lr`), exactly as the paper's bicubic inputs
    (from SelfExSR) were made. Datasets are found (or fetched) by :mod:`srgan_lib.plumbing.download`; files are
    read by :mod:`srgan_lib.plumbing.files`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from .plumbing import download as dl
from .plumbing.files import GRAY_MODES, find_images, read_with_mode
from .plumbing.image_cache import ImageStore, image_store, keep_large_enough, load_images
from .images import uint8_to_tensor
from .resize import downscale_patches, matlab_lr, modcrop

HR_CROP = 96  # section 3.2: 96 x 96 HR sub-images
SCALE = 4  # section 3.2: downsampling factor r = 4
#: The keywords of :meth:`PatchDataset.from_files` that choose the image store (:func:`load_images`'s).
STORE_OPTIONS = ("skip_small", "prepare", "cache_dir", "progress", "max_memory_bytes", "cache_images")

# ------------------------------------------------------------------------------------------------
# Training patches (section 3.2)
# ------------------------------------------------------------------------------------------------


# (flip, quarter turns) -> the same pixels as ``np.rot90(patch[:, ::-1] if flip else patch, turns)``,
# written as plain slicing/transposition views (cheaper than np.rot90; equality is tested).
_ORIENT = {
    (False, 0): lambda a: a,
    (False, 1): lambda a: a[:, ::-1].transpose(1, 0, 2),
    (False, 2): lambda a: a[::-1, ::-1],
    (False, 3): lambda a: a[::-1].transpose(1, 0, 2),
    (True, 0): lambda a: a[:, ::-1],
    (True, 1): lambda a: a.transpose(1, 0, 2),
    (True, 2): lambda a: a[::-1],
    (True, 3): lambda a: a[::-1, ::-1].transpose(1, 0, 2),
}


class PatchDataset(Dataset):
    """Random ``crop x crop`` HR patches and their ``crop/scale`` LR (section 3.2).

    Item ``i`` returns ``(lr, hr)``: ``lr`` (3, crop/scale, crop/scale) and ``hr`` (3, crop, crop),
    float32 in [0, 1] (:meth:`~srgan_lib.train.Trainer.batches` maps HR to [-1, 1]). Images are chosen with
    probability proportional to their area, then a uniformly random crop position, then (``augment``) a random
    horizontal flip and a rotation by a multiple of 90 degrees (the 8 symmetries of the square; ``flips`` and
    ``rotations`` switch either part off). ``length`` is nominal: any non-negative index is valid.

    Determinism: every random number of item ``i`` comes from ``numpy.random.default_rng([seed, i])``,
    so item ``i`` is the same whatever the worker count, the batch it is in, or where a run resumed.

    Speed: a DataLoader fetches a batch through :meth:`__getitems__`, which degrades the whole batch at
    once (:func:`~srgan_lib.resize.downscale_patches`); ``__getitem__`` is the same code with a batch of one, bit for
    bit.

    Args:
        images: an :class:`~srgan_lib.plumbing.image_cache.ImageStore` (:meth:`from_files` makes one of image
            files; :func:`~srgan_lib.plumbing.image_cache.image_store` of arrays, e.g. to skip small images), or
            ``(H, W, 3)`` uint8 arrays (``(H, W)`` gray and ``(H, W, 4)`` are accepted; alpha is dropped).
        crop: HR patch side (96 in the paper), a multiple of ``scale``; every image must be at least this big.
        scale: downscaling factor (4 in the paper).
        augment: random flips/rotations at all.
        seed: the dataset's random stream.
        length: nominal length reported to samplers.
        names: one name per array for error messages (a store has its own).
        flips, rotations: which augmentations ``augment`` uses (the random draws are made either way,
            so switching one off leaves every crop position unchanged).
    """

    def __init__(
        self,
        images: ImageStore | Sequence[np.ndarray],
        crop: int = HR_CROP,
        scale: int = SCALE,
        augment: bool = True,
        seed: int = 0,
        length: int = 10**9,
        names: Sequence[str] | None = None,
        *,
        flips: bool = True,
        rotations: bool = True,
    ) -> None:
        if crop % scale:
            raise ValueError(f"crop {crop} must be a multiple of the scale {scale}")
        if isinstance(images, ImageStore):
            if names is not None:
                raise ValueError("names belong to the store: give them to image_store(...)")
            keep_large_enough(images.names, images.sizes, crop, skip_small=False)  # a store made for a smaller crop
            self.store = images
        else:
            self.store = image_store(images, names, crop=crop)
        self.images, self.sizes, self.names = self.store.images, self.store.sizes, self.store.names
        self.crop, self.scale, self.augment, self.seed, self.length = crop, scale, augment, seed, length
        self.flips, self.rotations = flips, rotations
        areas = np.array([h * w for h, w in self.sizes], dtype=np.float64)
        self.cum = np.cumsum(areas / areas.sum())

    @classmethod
    def from_files(cls, files: Sequence[str | Path], crop: int = HR_CROP, **kwargs) -> "PatchDataset":
        """A dataset of the image files ``files``: ``PatchDataset(load_images(files, crop=crop, ...), crop, ...)``.

        The keywords of :func:`~srgan_lib.plumbing.image_cache.load_images` (:data:`STORE_OPTIONS`: which
        images are skipped, and how they are kept: a memory-mapped file prepared once for large sets such as
        DIV2K, else in memory, else decoded on demand) go to it; the others (``scale``, ``seed``, ...) to
        :class:`PatchDataset`. The storage never changes the patches: item ``i`` is the same crop whichever is
        used (tested).
        """
        store = load_images(files, crop=crop, **{k: kwargs.pop(k) for k in STORE_OPTIONS if k in kwargs})
        return cls(store, crop, **kwargs)

    @classmethod
    def from_folder(cls, folder: str | Path, **kwargs) -> "PatchDataset":
        """All images below ``folder`` (recursively, see :func:`srgan_lib.plumbing.files.find_images`), through
        :meth:`from_files` (which takes the same keyword arguments)."""
        return cls.from_files(find_images(folder), **kwargs)

    def __len__(self) -> int:
        return self.length

    def _draw(self, index: int) -> tuple[int, int, int, bool, int]:
        """Item ``index``'s ``(image, top, left, flip, quarter_turns)``, from ``default_rng([seed, index])``."""
        rng = np.random.default_rng([self.seed, index])
        k = min(int(np.searchsorted(self.cum, rng.random())), len(self.sizes) - 1)
        h, w = self.sizes[k]
        top = int(rng.integers(0, h - self.crop + 1))
        left = int(rng.integers(0, w - self.crop + 1))
        flip, turns = False, 0
        if self.augment:  # both draws are always made, so flips/rotations never move the crops
            flip = bool(rng.random() < 0.5)
            turns = int(rng.integers(0, 4))
            flip, turns = flip and self.flips, turns if self.rotations else 0
        return k, top, left, flip, turns

    def hr_patch(self, index: int) -> np.ndarray:
        """The uint8 HR crop ``(crop, crop, 3)`` of item ``index`` (deterministic in ``seed`` and ``index``).

        The plain numpy statement of what :meth:`__getitems__` computes (faster) in torch.
        """
        k, top, left, flip, turns = self._draw(index)
        patch = self.images[k][top : top + self.crop, left : left + self.crop]
        if flip:
            patch = patch[:, ::-1]
        if turns:
            patch = np.rot90(patch, turns)
        return np.ascontiguousarray(patch)

    def hr_patches(self, indices: Sequence[int]) -> torch.Tensor:
        """The uint8 HR crops of ``indices`` as one ``(N, 3, crop, crop)`` tensor (channels first).

        Per item one strided numpy copy does crop, flip, rotation and the HWC -> CHW transpose
        together (flip and ``rot90`` are views in numpy); item ``j`` equals ``hr_patch(indices[j])``
        transposed.
        """
        c = self.crop
        out = np.empty((len(indices), 3, c, c), dtype=np.uint8)  # (N, 3, c, c)
        images, draw = self.images, self._draw
        for j, index in enumerate(indices):
            k, top, left, flip, turns = draw(int(index))
            patch = _ORIENT[flip, turns](images[k][top : top + c, left : left + c])  # (c, c, 3) view
            out[j] = patch.transpose(2, 0, 1)  # (3, c, c): the only copy
        return torch.from_numpy(out)

    def batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Items ``indices`` as one batch ``(lr, hr)``: ``(N, 3, c/scale, c/scale)`` and ``(N, 3, c, c)``.

        Crops gathered, converted and degraded at once; row ``j`` equals ``self[indices[j]]``.
        """
        hr = self.hr_patches(indices).to(torch.float32).div_(255.0)  # (N, 3, c, c) in [0, 1]
        lr = downscale_patches(hr, self.scale)  # (N, 3, c/scale, c/scale)
        return lr, hr

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Items ``indices`` at once (:meth:`batch`), as the list of pairs a collate function expects.

        ``torch.utils.data.DataLoader`` (:class:`srgan_lib.train.Trainer`'s) calls this
        (instead of ``__getitem__`` per item) when present; its default collation stacks the pairs again.
        """
        lr, hr = self.batch(indices)
        return list(zip(lr.unbind(0), hr.unbind(0)))  # N pairs of (3, c/scale, c/scale), (3, c, c)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        lr, hr = self.__getitems__([index])[0]
        return lr.clone(), hr.clone()  # (3, c/scale, c/scale), (3, c, c); own storage


# ------------------------------------------------------------------------------------------------
# Evaluation pairs (section 3.1)
# ------------------------------------------------------------------------------------------------


class EvalSet(list):
    """An evaluation set: a list of ``(name, lr, hr)`` with ``lr``/``hr`` uint8 ``(h, w, 3)``/``(H, W, 3)``.

    Attributes: ``name`` (e.g. ``"Set5"``), ``scale``, ``folder`` (where the HR files were read), ``gray``
    (names of the images read from single-channel files, such as Set14's ``bridge``: stored as R = G = B
    here, but the "standard" metric flavour measures them on their gray levels; see
    :func:`srgan_lib.plumbing.evaluate.score_pair`).
    """

    def __init__(self, items: Iterable[tuple[str, np.ndarray, np.ndarray]] = (), name: str = "",
                 scale: int = SCALE, folder: Path | None = None, gray: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.name, self.scale, self.folder, self.gray = name, scale, folder, frozenset(gray)

    @property
    def names(self) -> list[str]:
        return [n for n, _, _ in self]

    def tensors(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(lr, hr)`` float tensors ``(3, h, w)``/``(3, H, W)`` in [0, 1], as a Trainer's ``val_pairs``."""
        return to_val_pairs(self)

    def __repr__(self) -> str:
        return f"EvalSet({self.name!r}, scale={self.scale}, {len(self)} images, folder={str(self.folder)!r})"


def to_val_pairs(pairs: Iterable[tuple[str, np.ndarray, np.ndarray]]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(name, lr_uint8, hr_uint8)`` triples -> ``(lr, hr)`` float tensors in [0, 1] for
    :class:`srgan_lib.train.Trainer`'s ``val_pairs``."""
    return [(uint8_to_tensor(lr), uint8_to_tensor(hr)) for _, lr, hr in pairs]  # (3, h, w), (3, H, W)


def load_eval_set(
    name_or_folder: str | Path,
    scale: int = SCALE,
    root: str | Path | None = None,
    *,
    download: bool = False,
    limit: int | None = None,
) -> EvalSet:
    """HR/LR evaluation pairs, made the way the paper's test inputs were made (section 3.1).

    Each HR image is read with :func:`srgan_lib.plumbing.files.read_rgb` (grayscale files such as Set14's ``bridge``
    become R = G = B), cropped top-left to a multiple of ``scale`` (``modcrop``), and its LR is the
    MATLAB-era bicubic ``imresize(hr, 1/scale)`` (:func:`srgan_lib.resize.matlab_lr`); at x4 this reproduces the
    SelfExSR LR images the paper used bit for bit.

    Args:
        name_or_folder: a folder of HR images (e.g. ``../shared/datasets/Set5``), or a dataset name:
            ``Set5``, ``Set14``, ``BSD100``, ``Urban100``, ``DIV2K-valid``, ``Kodak24`` (any case;
            ``B100`` works too), looked up in ``root``.
        scale: 2, 3, 4 or 8.
        root: folder holding the named datasets; default: the first complete copy in
            :func:`srgan_lib.plumbing.download.data_roots` (:func:`~srgan_lib.plumbing.download.find_dataset`).
        download: fetch a named dataset that is missing; without it a missing dataset raises
            :class:`srgan_lib.plumbing.download.DatasetNotFound`, whose message says what to fetch and where.
        limit: only the first ``limit`` images (sorted by file name).

    Returns:
        An :class:`EvalSet` (a list of ``(name, lr, hr)``; ``.tensors()`` gives ``val_pairs``).
    """
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    candidate = Path(name_or_folder)
    if candidate.is_dir():
        folder, set_name = candidate, candidate.name
    elif isinstance(name_or_folder, str) and dl.is_known(name_or_folder):
        set_name = dl.resolve_name(name_or_folder)
        folder = dl.find_dataset(set_name, root, download=download)
    elif isinstance(name_or_folder, Path) or os.sep in str(name_or_folder):
        raise FileNotFoundError(f"{name_or_folder}: evaluation folder not found")
    else:
        raise ValueError(f"unknown evaluation set {name_or_folder!r}: pass a folder of HR images or one of "
                         f"{', '.join(dl.dataset_names())}")
    files = find_images(folder)
    if limit is not None:
        files = files[:limit]
    items, gray = [], set()
    for f in files:
        rgb, _, mode = read_with_mode(f)
        hr = modcrop(rgb, scale)  # (H - H % s, W - W % s, 3)
        if hr.shape[0] == 0 or hr.shape[1] == 0:
            raise ValueError(f"{f}: smaller than the scale {scale}; cannot make an LR image")
        items.append((f.stem, matlab_lr(np.ascontiguousarray(hr), scale), np.ascontiguousarray(hr)))
        if mode in GRAY_MODES:
            gray.add(f.stem)
    return EvalSet(items, name=set_name, scale=scale, folder=folder, gray=gray)
