"""Images in, training patches and evaluation pairs out (paper sections 3.1 and 3.2).

Four parts, in the order a reader meets them:

Reading files (:func:`read_rgb`)
    Any common file becomes ``(H, W, 3)`` uint8 RGB: grayscale and palette images are expanded,
    alpha is dropped (:func:`read_rgb_alpha` keeps it), 16-bit files are scaled to 8 bits, EXIF
    orientation is applied. A file that is empty, truncated or not an image raises ``ValueError``
    naming the file and the problem.

Bundled samples (:func:`load_sample`)
    Seven freely licensed scikit-image pictures, stored in ``data/samples/`` (see ``data/README.md``
    for licences); when the repository is absent (a pip install) they come from scikit-image itself.

Training patches (:class:`PatchDataset`, section 3.2)
    "We trained all networks ... with 16 random 96 x 96 HR sub images of distinct training images"
    and LR made by bicubic downsampling with r = 4. A pair is a random HR crop (uint8 in memory, or
    in a memory-mapped file prepared once for large sets such as DIV2K (:func:`prepare_images`), so
    every file is decoded once) and its LR made on the fly with torch's antialiased bicubic (the
    fast training path of :mod:`srgan_lib.resize`), in float, never rounded; a DataLoader batch is
    degraded at once (:func:`downscale_patches`). Item ``i`` depends only on ``(seed, i)``, so it is
    the same whatever the worker count, batch composition or resume point. :func:`make_loader`
    builds a suitable DataLoader; the training engine builds its own the same way.

Training images for a run (:func:`training_images`)
    A folder you give (or ``$SRGAN_TRAIN_DATA``), else DIV2K found in a data root or downloaded, else
    the bundled samples with a :class:`ToyDataWarning`.

Evaluation pairs (:func:`load_eval_set`, section 3.1)
    Set5, Set14, BSD100 (and Urban100, DIV2K validation, Kodak24, or any folder) as
    ``(name, lr, hr)`` uint8 triples: HR cropped to a multiple of the scale (top-left, "modcrop"),
    LR made with the MATLAB-era bicubic :func:`srgan_lib.resize.imresize_matlab`, exactly as the
    paper's bicubic inputs (from SelfExSR) were made.

Where datasets live: an explicit ``root`` argument, else the first complete copy in ``$SRGAN_DATA``,
``~/.cache/srgan`` or ``../shared/datasets`` beside a repository checkout (see
:func:`srgan_lib.download.find_dataset`; :mod:`srgan_lib.download` also fetches them).
"""

from __future__ import annotations

import functools
import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

HR_CROP = 96  # section 3.2: 96 x 96 HR sub-images
SCALE = 4  # section 3.2: downsampling factor r = 4

#: Pillow modes of single-channel image files.
GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}

# ------------------------------------------------------------------------------------------------
# Reading files
# ------------------------------------------------------------------------------------------------


def _to_uint8_from_16bit(arr: np.ndarray) -> np.ndarray:
    """0..65535 -> 0..255 as ``round(v * 255 / 65535)`` (= ``round(v / 257)``; never a tie)."""
    a = arr.astype(np.uint32)
    return ((a * 2 + 257) // 514).astype(np.uint8)


def _convert_mode(im, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """A loaded PIL image -> ``(rgb (H, W, 3) uint8, alpha (H, W) uint8 or None)``."""
    mode = im.mode
    if mode == "RGB":
        return np.asarray(im, dtype=np.uint8).copy(), None
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint8)  # (H, W, 4)
        return np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3])
    if mode in ("L", "1"):
        gray = np.asarray(im.convert("L"), dtype=np.uint8)  # (H, W)
        return np.repeat(gray[..., None], 3, axis=2), None  # (H, W, 3)
    if mode.startswith("I;16") or mode == "I":
        # 16-bit grayscale (PNG, TIFF, PGM). Pillow opens these as "I;16" (or "I" in older versions);
        # both hold 0..65535 and are scaled exactly. 32-bit data outside 0..65535 is refused.
        arr = np.asarray(im)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise ValueError(f"{path}: {mode} image with values outside 0..65535; convert it to 8 or 16 bits")
        gray = _to_uint8_from_16bit(arr)
        return np.repeat(gray[..., None], 3, axis=2), None
    if mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        if arr.size and not (np.isfinite(arr).all() and arr.min() >= 0.0 and arr.max() <= 1.0):
            raise ValueError(f"{path}: floating-point image with values outside [0, 1]; convert it to 8 bits")
        gray = np.floor(arr * 255.0 + 0.5).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2), None
    try:  # P (no transparency), CMYK, YCbCr, RGBX, ...: Pillow's own conversion
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy(), None
    except (ValueError, OSError) as exc:
        raise ValueError(f"{path}: colour mode {mode!r} cannot be converted to RGB ({exc})") from exc


def _open_checked(path: Path):
    """``PIL.Image.open`` with the common failures turned into errors that name the file."""
    from PIL import Image, UnidentifiedImageError

    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file (0 bytes), not an image")
    try:
        return Image.open(path)
    except UnidentifiedImageError as exc:
        raise ValueError(f"{path}: not an image file (or a format Pillow cannot read)") from exc
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{path}: too many pixels to decode safely ({exc})") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ValueError(f"{path}: corrupt image header ({type(exc).__name__}: {exc})") from exc


def read_rgb_alpha(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read an image file as ``(rgb, alpha)``: ``(H, W, 3)`` uint8 and ``(H, W)`` uint8 or ``None``.

    Handles grayscale (``L``, ``1``: channels replicated), palette (``P``, with or without
    transparency), ``LA``/``RGBA`` (alpha returned separately, colour channels as stored, not
    composited), 16-bit grayscale (``I;16``/``I``: scaled exactly, ``round(v * 255 / 65535)``),
    CMYK/YCbCr (Pillow's conversion), and EXIF orientation (the pixels are turned upright; the file's
    stored orientation is ignored afterwards). Multi-frame files give their first frame. No colour
    management: ICC profiles are ignored and values are used as stored.

    16-bit *RGB* PNGs: Pillow decodes them to 8 bits itself by keeping the high byte
    (``v // 256``), which is within one level of the exact ``round(v / 257)``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: empty (0-byte), truncated or corrupt file, not an image, or an unsupported mode;
            the message starts with the path.
    """
    rgb, alpha, _ = _read_with_mode(path)
    return rgb, alpha


def _read_with_mode(path: str | Path) -> tuple[np.ndarray, np.ndarray | None, str]:
    """:func:`read_rgb_alpha` plus the file's Pillow mode (``"L"`` for a grayscale file), from one open."""
    from PIL import Image, ImageOps

    path = Path(path)
    im = _open_checked(path)
    try:
        with im:
            mode = im.mode
            im.load()  # decode now, so that truncated data fails here, with the file's name
            im = ImageOps.exif_transpose(im)
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{path}: too many pixels to decode safely ({exc})") from exc
    except (OSError, SyntaxError, ValueError, EOFError, KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"{path}: truncated or corrupt image data ({type(exc).__name__}: {exc})") from exc
    return (*_convert_mode(im, path), mode)


def read_rgb(path: str | Path) -> np.ndarray:
    """Read any common image file as ``(H, W, 3)`` uint8 RGB, honouring EXIF orientation.

    Alpha is dropped: training and evaluation use the colour channels only (as stored; transparent
    pixels keep whatever colour the file holds). Use :func:`read_rgb_alpha` to keep it. See
    :func:`read_rgb_alpha` for the modes handled and the errors raised (``ValueError`` naming the file
    for empty, truncated or non-image files).
    """
    return read_rgb_alpha(path)[0]


_EXIF_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that rotate by 90 or 270 degrees


def image_size(path: str | Path) -> tuple[int, int]:
    """``(height, width)`` of an image file *as* :func:`read_rgb` *returns it* (EXIF orientation
    applied), read from the header without decoding the pixels."""
    path = Path(path)
    im = _open_checked(path)
    with im:
        w, h = im.size
        try:
            orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
        except Exception:  # noqa: BLE001 - a broken EXIF block fails in read_rgb, with its message
            orientation = 1
    return (w, h) if orientation in _SWAPS_AXES else (h, w)


def find_images(folder: str | Path, *, suffixes: Iterable[str] = IMAGE_SUFFIXES,
                skip: str | Path | None = None) -> list[Path]:
    """All image files below ``folder`` (recursively), sorted; hidden files and folders are skipped.

    ``suffixes``: the file endings that count (default :data:`IMAGE_SUFFIXES`; ``srgan upscale`` adds
    ``.gif``). ``skip``: a folder whose files are left out (``srgan upscale``'s output folder, so that a
    second run does not upscale its own outputs).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    suffixes = {s.lower() for s in suffixes}
    skip = Path(skip).resolve() if skip is not None else None
    files = sorted(
        p for p in folder.rglob("*")
        if p.suffix.lower() in suffixes and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and (skip is None or not p.resolve().is_relative_to(skip))
    )
    if not files:
        raise FileNotFoundError(f"{folder}: no image files found (looked for {', '.join(sorted(suffixes))})")
    return files


# ------------------------------------------------------------------------------------------------
# Bundled samples
# ------------------------------------------------------------------------------------------------

#: The bundled pictures (scikit-image's data; licences in ``data/README.md``).
SAMPLE_NAMES = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass", "gravel")
#: Used (with Kodak24) to train the shipped SRResNet weights.
TRAINING_SAMPLES = ("chelsea", "rocket")
#: Never seen in training: use these for demonstrations.
HELD_OUT_SAMPLES = ("astronaut", "coffee", "brick", "grass", "gravel")
#: ``data/samples`` of the repository (absent in a pip install).
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "samples"
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


# ------------------------------------------------------------------------------------------------
# Training patches (section 3.2)
# ------------------------------------------------------------------------------------------------

#: Without ``max_memory_bytes``, images are kept decoded in memory while they need at most this
#: fraction of the machine's physical memory (4 GiB where it cannot be read).
DEFAULT_MEMORY_FRACTION = 0.5


def default_memory_limit() -> int:
    """Bytes of decoded uint8 images :meth:`PatchDataset.from_folder` keeps in memory by default."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30
    return int(total * DEFAULT_MEMORY_FRACTION)


class LazyImages(Sequence):
    """Image files decoded on demand, the last ``cache_images`` decoded ones kept (LRU).

    Used by :meth:`PatchDataset.from_files` with ``prepare=False`` when the decoded images would not fit
    in the memory limit. Every DataLoader worker has its own cache (of ``cache_images`` images), so
    memory grows with the worker count. Random crops from many images mostly miss the cache, so each
    patch then costs a full image decode: for 2K images about 16 pairs per CPU-second against about
    12,000 from memory or from a prepared memory-mapped file (:func:`prepare_images`, the default for
    large sets; ``benchmarks/data_speed.txt``). Only the headers are read up front, so a file with
    truncated pixel data fails when it is first decoded (with a ``ValueError`` naming it), not when the
    dataset is built.
    """

    def __init__(self, paths: Sequence[str | Path], sizes: Sequence[tuple[int, int]] | None = None,
                 cache_images: int = 16) -> None:
        self.paths = [Path(p) for p in paths]
        self.sizes = [tuple(s) for s in sizes] if sizes is not None else [image_size(p) for p in self.paths]
        if len(self.sizes) != len(self.paths):
            raise ValueError("LazyImages: one size per path is needed")
        self.cache_images = max(1, int(cache_images))
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, k: int) -> np.ndarray:  # type: ignore[override]
        img = self._cache.get(k)
        if img is not None:
            self._cache.move_to_end(k)
            return img
        img = read_rgb(self.paths[k])
        if img.shape[:2] != self.sizes[k]:
            raise ValueError(f"{self.paths[k]}: decoded size {img.shape[1]}x{img.shape[0]} differs from the "
                             f"size read earlier ({self.sizes[k][1]}x{self.sizes[k][0]}); was the file changed?")
        self._cache[k] = img
        while len(self._cache) > self.cache_images:
            self._cache.popitem(last=False)
        return img

    def subset(self, keep: Sequence[int]) -> "LazyImages":
        """The images at indices ``keep``, with an empty cache."""
        return LazyImages([self.paths[k] for k in keep], [self.sizes[k] for k in keep], self.cache_images)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"] = OrderedDict()  # workers start with an empty cache
        return state


#: :meth:`PatchDataset.from_files` (``prepare=None``) prepares a memory-mapped file (:func:`prepare_images`)
#: when the decoded images need more than this many bytes; smaller sets are decoded into memory.
PREPARE_ABOVE_BYTES = 256 * 2**20
_PREPARED_VERSION = 1  # bump when the file layout changes: older files are then prepared again


class MappedImages(Sequence):
    """Decoded uint8 images in one memory-mapped ``.npy`` file, made by :func:`prepare_images`.

    Image ``k`` is a read-only ``(H, W, 3)`` view into the file: nothing is decoded or copied until a
    crop is taken, so a random 96 x 96 crop of a 2K image costs a strided copy of 96 rows instead of
    a PNG decode (tens of milliseconds). The operating system's page cache holds the pages in use and
    shares them between DataLoader workers; the process itself keeps almost nothing. A pickled copy
    (a ``spawn``-ed worker) re-opens the file instead of carrying the data.
    """

    def __init__(self, data_file: str | Path, paths: Sequence[str | Path], sizes: Sequence[tuple[int, int]],
                 offsets: Sequence[int]) -> None:
        if not len(paths) == len(sizes) == len(offsets):
            raise ValueError("MappedImages: one size and one offset per path are needed")
        self.data_file = Path(data_file)
        self.paths = [Path(p) for p in paths]
        self.sizes = [(int(h), int(w)) for h, w in sizes]
        self.offsets = [int(o) for o in offsets]
        self._data: np.ndarray | None = None
        self._array()  # mapped now: the mapping stays valid even if a newer preparation deletes the file

    def _array(self) -> np.ndarray:
        if self._data is None:
            self._data = np.load(self.data_file, mmap_mode="r")  # (total_bytes,) uint8, read-only
        return self._data

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, k: int) -> np.ndarray:  # type: ignore[override]
        (h, w), start = self.sizes[k], self.offsets[k]
        return self._array()[start : start + h * w * 3].reshape(h, w, 3)  # a view, no copy

    def subset(self, keep: Sequence[int]) -> "MappedImages":
        """The images at indices ``keep`` (same file)."""
        part = MappedImages.__new__(MappedImages)
        part.__dict__.update(self.__dict__, paths=[self.paths[k] for k in keep], sizes=[self.sizes[k] for k in keep],
                             offsets=[self.offsets[k] for k in keep])  # same mapping
        return part

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_data"] = None  # re-opened where it is unpickled, never copied
        return state


def _prepared_key(paths: Sequence[Path]) -> tuple[str, list[dict]]:
    """A digest of the files' resolved paths, byte sizes and modification times, and those entries."""
    import hashlib
    import json

    entries = []
    for p in paths:
        st = p.stat()
        entries.append({"path": str(p.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns})
    blob = json.dumps([_PREPARED_VERSION, entries], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20], entries


def _load_prepared(index_file: Path, key: str, paths: Sequence[Path]) -> MappedImages | None:
    """The prepared images recorded in ``index_file`` when it matches ``key`` and its data file is complete."""
    import json

    try:
        index = json.loads(index_file.read_text())
        if index.get("version") != _PREPARED_VERSION or index.get("key") != key:
            return None
        data_file = index_file.with_suffix(".npy")
        data = np.load(data_file, mmap_mode="r")
        if data.dtype != np.uint8 or data.shape != (int(index["total_bytes"]),):
            return None
        files = index["files"]
        return MappedImages(data_file, paths, [(f["height"], f["width"]) for f in files], [f["offset"] for f in files])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, truncated or foreign: prepare again


def _remove_stale(cache_dir: Path, source: str, keep_key: str) -> None:
    """Delete older preparations of the same ``source`` folder and temporary files of killed preparations."""
    import json

    from .images import remove_stale_temps

    for index_file in cache_dir.glob("*.json"):
        try:
            index = json.loads(index_file.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(index, dict) and index.get("source") == source and index.get("key") != keep_key:
            index_file.unlink(missing_ok=True)  # the index first: a data file without one is never used
            index_file.with_suffix(".npy").unlink(missing_ok=True)
    remove_stale_temps(cache_dir)  # a killed preparation's temporary file; one still being written is locked, kept


def prepare_images(
    paths: Sequence[str | Path],
    cache_dir: str | Path | None = None,
    *,
    progress: bool = True,
) -> MappedImages:
    """Decode image files once into one memory-mapped uint8 file, or re-use the file made earlier.

    Training draws its 96 x 96 crops from this file (:class:`MappedImages`) instead of decoding a 2K PNG
    per patch. Layout: ``<cache_dir>/<folder>-<key>.npy`` holds every image's ``H * W * 3`` bytes
    (:func:`read_rgb` pixels, row-major) one after the other; ``<folder>-<key>.json`` (the index) holds
    each file's offset, size, byte count and modification time. ``key`` digests the files' paths,
    byte sizes and modification times, so adding, removing, replacing or touching a file makes a new
    preparation (and the old one of the same folder is deleted).

    Memory: images are decoded and written one at a time, so the process holds one decoded image
    (about 8 MB for 2K) whatever the number of files. Disk: the decoded size (800 images of 2040 x 1356:
    6.2 GiB; see ``benchmarks/data_speed.txt``).

    Atomic: the data file is written under a temporary name and renamed, then the index is written the
    same way (:func:`srgan_lib.checkpoint.atomic_write`); an index is only trusted when its key matches
    and its data file has the recorded length, so an interrupted or killed preparation is never used
    (its temporary file is deleted on an exception, or by the next preparation once no live process holds
    its lock: :func:`srgan_lib.images.remove_stale_temps`).

    Args:
        paths: the image files, in the order the dataset will index them.
        cache_dir: where the files go; default ``<data root>/prepared`` (``$SRGAN_DATA``, else
            ``~/.cache/srgan``). Keep it on a local disk: random reads from a network drive (Google
            Drive on Colab) are slow.
        progress: show a progress bar while decoding.

    Raises:
        ValueError: a file is not a readable image (the message names it).
    """
    import json

    from tqdm.auto import tqdm

    from .checkpoint import atomic_write
    from .download import data_root

    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("prepare_images: no image files given")
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else data_root() / "prepared"
    key, entries = _prepared_key(paths)
    source = os.path.commonpath([str(Path(e["path"]).parent) for e in entries])
    index_file = cache_dir / f"{Path(source).name or 'images'}-{key}.json"
    found = _load_prepared(index_file, key, paths)
    if found is not None:
        return found
    cache_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale(cache_dir, source, key)
    sizes = [image_size(p) for p in paths]  # headers only: a bad file fails here, by name
    offsets = np.concatenate([[0], np.cumsum([h * w * 3 for h, w in sizes])]).tolist()

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False,
                                                      "shape": (offsets[-1],)})
            for p, size in tqdm(list(zip(paths, sizes)), desc="preparing training images", unit="image",
                                disable=not progress, leave=False):
                img = read_rgb(p)  # (H, W, 3) uint8: the only decoded image held
                if img.shape[:2] != size:
                    raise ValueError(f"{p}: decoded size {img.shape[1]}x{img.shape[0]} differs from its "
                                     f"header ({size[1]}x{size[0]}); was the file changed?")
                fh.write(img.data)

    atomic_write(index_file.with_suffix(".npy"), write)
    files = [{**e, "height": h, "width": w, "offset": o} for e, (h, w), o in zip(entries, sizes, offsets)]
    record = {"version": _PREPARED_VERSION, "key": key, "source": source, "total_bytes": offsets[-1], "files": files}
    atomic_write(index_file, lambda tmp: Path(tmp).write_text(json.dumps(record, indent=1) + "\n"))
    return MappedImages(index_file.with_suffix(".npy"), paths, sizes, offsets[:-1])


def _as_rgb_uint8(img: np.ndarray, name: str) -> np.ndarray:
    """Accept ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` uint8 (alpha dropped)."""
    img = np.asarray(img)
    if img.dtype == np.uint8 and img.ndim == 2:
        img = img[..., None]
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] not in (1, 3, 4):
        raise ValueError(f"{name}: expected (H, W, 3) uint8, got {img.dtype} {img.shape}")
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)  # gray -> (H, W, 3)
    elif img.shape[2] == 4:
        img = img[..., :3]  # alpha dropped, as in read_rgb
    return np.ascontiguousarray(img)


def _keep_large_enough(names: Sequence[str], sizes: Sequence[tuple[int, int]], crop: int,
                       skip_small: bool) -> list[int]:
    """Indices of images at least ``crop x crop``; a smaller one raises (or warns with ``skip_small``)."""
    keep, small = [], []
    for k, (name, (h, w)) in enumerate(zip(names, sizes)):
        if h >= crop and w >= crop:
            keep.append(k)
            continue
        msg = f"{name}: {w}x{h} is smaller than the {crop}x{crop} crop"
        if not skip_small:
            raise ValueError(msg + " (pass skip_small=True to skip such images)")
        small.append(msg)
    if small:
        warnings.warn(f"skipped {len(small)} image(s) smaller than the crop: " + "; ".join(small[:5])
                      + (" ..." if len(small) > 5 else ""), stacklevel=3)
    return keep


@functools.lru_cache(maxsize=16)
def _downscale_matrix(size: int, scale: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``(size, size // scale)`` matrix ``M`` with ``x @ M`` = torch's antialiased bicubic
    downscale of the rows of ``x`` (``F.interpolate(..., mode="bicubic", antialias=True)``).

    It is read off torch itself: resizing the identity matrix gives each input pixel's weights in each
    output pixel (the height is kept, which is exactly the identity for this kernel).
    """
    eye = torch.eye(size, dtype=dtype)[None, None]  # (1, 1, size, size)
    m = F.interpolate(eye, size=(size, size // scale), mode="bicubic", antialias=True,
                      align_corners=False)  # (1, 1, size, size/scale)
    return m[0, 0].contiguous()  # (size, size/scale)


def downscale_patches(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Antialiased bicubic downscale of a batch of square patches, as two small matrix products.

    Equal to :func:`srgan_lib.resize.downscale_torch` (``F.interpolate(..., antialias=True)``) to
    within float rounding (about 3e-7), and 2 to 4 times faster on a CPU for 96 x 96 patches: the
    resize is linear and separable, so for a fixed size it is ``M^T @ x @ M`` with ``M`` read off
    torch (:func:`_downscale_matrix`). Each patch's result does not depend on the rest of the batch.

    Args:
        hr: ``(N, C, S, S)`` float tensor in [0, 1], ``S`` a multiple of ``scale``.
        scale: integer factor (4 in the paper).

    Returns:
        ``(N, C, S // scale, S // scale)`` float tensor clamped to [0, 1].
    """
    if hr.ndim != 4 or hr.shape[-1] != hr.shape[-2] or not hr.is_floating_point():
        raise ValueError(f"downscale_patches expects (N, C, S, S) float patches, got {hr.dtype} {tuple(hr.shape)}")
    size = hr.shape[-1]
    if size % scale:
        raise ValueError(f"patch size {size} is not a multiple of the scale {scale}")
    dtype = hr.dtype if hr.dtype == torch.float64 else torch.float32
    m = _downscale_matrix(size, scale, dtype).to(hr.device, hr.dtype)  # (S, s)
    rows = torch.matmul(hr, m)  # (N, C, S, s): each row shrunk
    lr = torch.matmul(rows.transpose(-1, -2), m).transpose(-1, -2)  # (N, C, s, s): then each column
    return lr.contiguous().clamp_(0.0, 1.0)


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
    """Random ``crop x crop`` HR patches and their ``crop/scale`` LR (section 3.2), held in memory.

    Item ``i`` returns ``(lr, hr)``: ``lr`` (3, crop/scale, crop/scale) and ``hr`` (3, crop, crop),
    float32 in [0, 1] (the engine maps HR to [-1, 1]). Images are chosen with probability proportional
    to their area, then a uniformly random crop position, then (``augment``) a random horizontal flip
    and a rotation by a multiple of 90 degrees (the 8 symmetries of the square; ``flips`` and
    ``rotations`` switch either part off). ``length`` is nominal: any non-negative index is valid.

    Determinism: every random number of item ``i`` comes from ``numpy.random.default_rng([seed, i])``,
    so item ``i`` is the same whatever the worker count, the batch it is in, or where a run resumed.

    Speed: a DataLoader fetches a batch through :meth:`__getitems__`, which degrades the whole batch at
    once (:func:`downscale_patches`); ``__getitem__`` is the same code with a batch of one, bit for bit.

    Args:
        images: ``(H, W, 3)`` uint8 arrays (``(H, W)`` gray and ``(H, W, 4)`` are accepted; alpha is
            dropped), a :class:`LazyImages` (files decoded on demand), or a :class:`MappedImages`
            (decoded once into a memory-mapped file by :func:`prepare_images`; the fast path for
            large images such as DIV2K's).
        crop: HR patch side (96 in the paper), a multiple of ``scale``.
        scale: downscaling factor (4 in the paper).
        augment: random flips/rotations at all.
        seed: the dataset's random stream.
        length: nominal length reported to samplers.
        names: one name per image for error messages (file names when made by :meth:`from_folder`).
        flips, rotations: which augmentations ``augment`` uses (the random draws are made either way,
            so switching one off leaves every crop position unchanged).
        skip_small: skip images smaller than the crop with a warning, instead of raising ``ValueError``.
    """

    def __init__(
        self,
        images: Sequence[np.ndarray] | LazyImages,
        crop: int = HR_CROP,
        scale: int = SCALE,
        augment: bool = True,
        seed: int = 0,
        length: int = 10**9,
        names: Sequence[str] | None = None,
        *,
        flips: bool = True,
        rotations: bool = True,
        skip_small: bool = False,
    ) -> None:
        if crop % scale:
            raise ValueError(f"crop {crop} must be a multiple of the scale {scale}")
        if isinstance(images, (LazyImages, MappedImages)):
            names = list(names) if names is not None else [str(p) for p in images.paths]
            keep = _keep_large_enough(names, images.sizes, crop, skip_small)
            store: Sequence[np.ndarray] | LazyImages | MappedImages = (
                images if len(keep) == len(images) else images.subset(keep))
            sizes = [images.sizes[k] for k in keep]
        else:
            images = list(images)
            names = list(names) if names is not None else [f"image {k}" for k in range(len(images))]
            if len(names) != len(images):
                raise ValueError(f"{len(names)} names for {len(images)} images")
            arrays = [_as_rgb_uint8(img, name) for img, name in zip(images, names)]
            keep = _keep_large_enough(names, [a.shape[:2] for a in arrays], crop, skip_small)
            store = [arrays[k] for k in keep]
            sizes = [arrays[k].shape[:2] for k in keep]
        if not keep:
            raise ValueError(f"no training images (none given, or none at least {crop}x{crop})")
        self.images = store
        self.sizes = [tuple(int(v) for v in s) for s in sizes]
        self.names = [names[k] for k in keep]
        self.crop, self.scale, self.augment, self.seed, self.length = crop, scale, augment, seed, length
        self.flips, self.rotations = flips, rotations
        areas = np.array([h * w for h, w in self.sizes], dtype=np.float64)
        self.cum = np.cumsum(areas / areas.sum())

    @property
    def lazy(self) -> bool:
        """True when images are decoded on demand (:class:`LazyImages`) rather than held in memory."""
        return isinstance(self.images, LazyImages)

    @property
    def prepared(self) -> bool:
        """True when crops come from a memory-mapped file made by :func:`prepare_images`."""
        return isinstance(self.images, MappedImages)

    @classmethod
    def from_files(
        cls,
        files: Sequence[str | Path],
        *,
        prepare: bool | None = None,
        cache_dir: str | Path | None = None,
        progress: bool = True,
        max_memory_bytes: int | None = None,
        cache_images: int = 16,
        skip_small: bool = False,
        **kwargs,
    ) -> "PatchDataset":
        """A dataset of the image files ``files``, stored the fastest way that fits.

        Sizes are read from the file headers first (a bad file fails here, by name). Then:

        - ``prepare=True``, or ``None`` (default) with more than :data:`PREPARE_ABOVE_BYTES` of decoded
          pixels: decoded once into a memory-mapped file in ``cache_dir`` (:func:`prepare_images`),
          re-used by later runs while the files are unchanged;
        - otherwise, decoded now and kept in memory when they need at most ``max_memory_bytes``
          (default :func:`default_memory_limit`: half the physical memory), else decoded on demand
          through a :class:`LazyImages` cache of ``cache_images`` images per worker (slow for 2K images).

        The storage never changes the patches: item ``i`` is the same crop whichever is used (tested).
        Other keyword arguments (``crop``, ``scale``, ``seed``, ...) go to :class:`PatchDataset`.
        """
        files = [Path(f) for f in files]
        names = [str(f) for f in files]
        sizes = [image_size(f) for f in files]
        crop = kwargs.get("crop", HR_CROP)
        keep = _keep_large_enough(names, sizes, crop, skip_small)
        if not keep:
            where = os.path.commonpath([str(f.parent) for f in files]) if files else "from_files"
            raise ValueError(f"{where}: no image at least {crop}x{crop} (of {len(files)} files)")
        files, names, sizes = [files[k] for k in keep], [names[k] for k in keep], [sizes[k] for k in keep]
        need = sum(h * w * 3 for h, w in sizes)
        if prepare or (prepare is None and need > PREPARE_ABOVE_BYTES):
            return cls(prepare_images(files, cache_dir, progress=progress), names=names, **kwargs)
        limit = default_memory_limit() if max_memory_bytes is None else int(max_memory_bytes)
        if need <= limit:
            return cls([read_rgb(f) for f in files], names=names, **kwargs)
        return cls(LazyImages(files, sizes, cache_images), names=names, **kwargs)

    @classmethod
    def from_folder(cls, folder: str | Path, **kwargs) -> "PatchDataset":
        """All images below ``folder`` (recursively, see :func:`find_images`), through :meth:`from_files`
        (which takes the same keyword arguments)."""
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

        ``torch.utils.data.DataLoader`` calls this (instead of ``__getitem__`` per item) when present;
        its default collation then stacks the pairs again (one copy of the batch; :func:`make_loader`
        avoids it).
        """
        lr, hr = self.batch(indices)
        return list(zip(lr.unbind(0), hr.unbind(0)))  # N pairs of (3, c/scale, c/scale), (3, c, c)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        lr, hr = self.__getitems__([index])[0]
        return lr.clone(), hr.clone()  # (3, c/scale, c/scale), (3, c, c); own storage


class _Batches(Dataset):
    """``dataset.batch(indices)`` behind ``__getitem__``, for a DataLoader with automatic batching off."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.dataset.batch(indices)  # type: ignore[attr-defined]


def make_loader(
    dataset: Dataset,
    batch_size: int = 16,
    num_workers: int = 0,
    *,
    first_step: int = 0,
    steps: int | None = None,
    pin_memory: bool | None = None,
    prefetch_factor: int | None = None,
) -> DataLoader:
    """A DataLoader of training batches ``(lr, hr)`` in index order: batch ``s`` holds items
    ``s * batch_size ... (s + 1) * batch_size - 1``, so step ``s`` sees the same data whatever the
    worker count, and a run can resume at ``first_step``.

    Settings for a :class:`PatchDataset`: no shuffling (the randomness comes from the index);
    automatic batching off, with a ``BatchSampler`` handing whole index lists to
    :meth:`PatchDataset.batch`, so a batch is built once and never re-stacked by a collate function;
    ``pin_memory`` when CUDA is present; persistent workers, each prefetching 4 batches, one torch
    thread each (DataLoader's default). 2 to 4 workers keep a GPU fed at 96 x 96 (see
    ``benchmarks/data_speed.py``). Workers share in-memory images copy-on-write (fork); a
    :class:`LazyImages` cache is per worker. Datasets without a ``batch`` method get an ordinary
    batched DataLoader.

    The training engine (:class:`srgan_lib.train.Trainer`) builds its own loader (automatic batching,
    a sampler that also splits indices between distributed ranks); a :class:`PatchDataset` batch then
    goes through :meth:`PatchDataset.__getitems__` and gives the same tensors.
    """
    from torch.utils.data import BatchSampler

    if steps is None:
        steps = len(dataset) // batch_size - first_step  # type: ignore[arg-type]
    if steps < 0 or first_step < 0:
        raise ValueError(f"first_step ({first_step}) and steps ({steps}) must be non-negative")
    indices = range(first_step * batch_size, (first_step + steps) * batch_size)
    if pin_memory is None:
        pin_memory = torch.cuda.is_available()
    extra = dict(persistent_workers=True, prefetch_factor=prefetch_factor or 4) if num_workers > 0 else {}
    if hasattr(dataset, "batch"):
        return DataLoader(_Batches(dataset), batch_size=None, sampler=BatchSampler(indices, batch_size, False),
                          num_workers=num_workers, pin_memory=pin_memory, **extra)
    return DataLoader(dataset, batch_size=batch_size, sampler=indices, num_workers=num_workers,
                      pin_memory=pin_memory, drop_last=False, **extra)


# ------------------------------------------------------------------------------------------------
# Training images for a run
# ------------------------------------------------------------------------------------------------

#: Environment variable naming a folder of HR training images (searched recursively).
TRAIN_ENV = "SRGAN_TRAIN_DATA"


class ToyDataWarning(UserWarning):
    """Training falls back to the two bundled photographs: results will be toy-sized."""


@dataclass(frozen=True)
class TrainingImages:
    """The HR training images a run uses, and where they came from (see :func:`training_images`).

    Attributes:
        paths: the image files, sorted.
        source: one line for a reader: which images and why (``print`` it in a notebook).
        toy: True for the bundled samples: enough to run the code, not to train a useful model.
        folder: the folder the images were found in (``None`` for the bundled samples).
    """

    paths: tuple[Path, ...]
    source: str
    toy: bool
    folder: Path | None = None

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def summary(self) -> str:
        """:attr:`source` with the folder named by its last part only (no machine path in a notebook's output)."""
        return self.source.replace(str(self.folder), self.folder.name) if self.folder is not None else self.source

    def patch_dataset(self, crop: int = HR_CROP, scale: int = SCALE, seed: int = 0, **kwargs) -> "PatchDataset":
        """A :class:`PatchDataset` of these images (:meth:`PatchDataset.from_files`: large sets such as
        DIV2K are decoded once into a memory-mapped file; keyword arguments as there)."""
        return PatchDataset.from_files(self.paths, crop=crop, scale=scale, seed=seed, **kwargs)


def training_images(
    folder: str | Path | None = None,
    *,
    download: bool | None = None,
    root: str | Path | None = None,
    progress: bool = True,
    timeout: float = 3.0,
) -> TrainingImages:
    """Decide which HR images a run trains on; the first that applies wins.

    1. ``folder`` (searched recursively), else the folder named by ``$SRGAN_TRAIN_DATA``;
    2. DIV2K's 800 training images (the tutorial's stand-in for the paper's 350 thousand ImageNet
       images, section 3.1) when a complete copy is in a data root (:func:`srgan_lib.download.find_dataset`);
    3. DIV2K downloaded (3.5 GB zip, size and SHA-256 checked, progress bar, installed atomically
       into ``root``, else ``$SRGAN_DATA``, else ``~/.cache/srgan``) when ``download`` is true, or when
       ``download`` is ``None``, this is not a quick run (``SRGAN_QUICK``, which promises to download
       nothing) and the DIV2K server answers within ``timeout`` seconds
       (:func:`srgan_lib.download.is_online`). ``download=False`` never touches the network. A failed
       automatic download warns and falls through; a failed requested one raises;
    4. the bundled samples :data:`TRAINING_SAMPLES` (two photographs), with a :class:`ToyDataWarning`
       and ``toy=True``: the code runs, but a model trained on two pictures is a toy.

    Args:
        folder: a folder of HR training images, e.g. your own DIV2K copy.
        download: see step 3.
        root: the data root to search and download into (e.g. a Google Drive folder on Colab, so the
            download survives a recycled runtime); default :func:`srgan_lib.download.data_roots`.
        progress: progress bar while downloading.
        timeout: seconds the online probe may take.

    Raises:
        FileNotFoundError: ``folder`` (or ``$SRGAN_TRAIN_DATA``) is not a folder or holds no images.
        srgan_lib.download.DownloadError: ``download=True`` and the download failed.
    """
    from . import download as dl
    from .runtime import quick_mode

    origin = "given"
    if folder is None and os.environ.get(TRAIN_ENV, "").strip():
        folder, origin = os.environ[TRAIN_ENV].strip(), f"${TRAIN_ENV}"
    if folder is not None:
        folder = Path(folder).expanduser()
        paths = find_images(folder)
        return TrainingImages(tuple(paths), f"{len(paths)} training images from {folder} ({origin})", False, folder)
    div2k, why = None, "download=False"
    try:
        div2k = dl.find_dataset("DIV2K-train", root)
    except dl.DatasetNotFound:
        if download is None and quick_mode():
            online, why = False, "a quick run (SRGAN_QUICK=1) downloads nothing"
        elif download is None:
            online = dl.is_online(dl.REGISTRY["DIV2K-train"].files[0].urls[0], timeout)
            why = "offline" if not online else why
        else:
            online = download
        if online:
            try:
                div2k = dl.download("DIV2K-train", root, progress=progress)
            except dl.DownloadError as exc:
                if download:
                    raise
                why = f"the DIV2K download failed: {str(exc).splitlines()[0]}"
    if div2k is not None:
        paths = find_images(div2k)
        return TrainingImages(tuple(paths), f"DIV2K training set: {len(paths)} 2K images from {div2k}", False, div2k)
    paths = tuple(sample_path(n) for n in TRAINING_SAMPLES)
    note = (f"no training folder given and no DIV2K ({why}): training on the {len(paths)} bundled photographs "
            f"({', '.join(TRAINING_SAMPLES)}). Results will be toy-sized; pass a folder, set ${TRAIN_ENV}, "
            "or allow the DIV2K download (download=True).")
    warnings.warn(note, ToyDataWarning, stacklevel=2)
    return TrainingImages(paths, "toy: " + note, True, None)


# ------------------------------------------------------------------------------------------------
# Evaluation pairs (section 3.1)
# ------------------------------------------------------------------------------------------------


def matlab_lr(hr: np.ndarray, scale: int) -> np.ndarray:
    """The evaluation LR of a (mod-cropped) uint8 HR image: MATLAB-era ``imresize(hr, 1/scale, 'bicubic')``."""
    from .resize import imresize_matlab

    h, w = hr.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f"HR size {w}x{h} is not a multiple of the scale {scale}; modcrop it first")
    lr = imresize_matlab(hr, 1.0 / scale)
    if lr.shape[:2] != (h // scale, w // scale):  # 1/scale not exact in binary (e.g. 3): give the size
        lr = imresize_matlab(hr, output_shape=(h // scale, w // scale))
    return lr


class EvalSet(list):
    """An evaluation set: a list of ``(name, lr, hr)`` with ``lr``/``hr`` uint8 ``(h, w, 3)``/``(H, W, 3)``.

    Attributes: ``name`` (e.g. ``"Set5"``), ``scale``, ``folder`` (where the HR files were read), ``gray``
    (names of the images read from single-channel files, such as Set14's ``bridge``: stored as R = G = B
    here, but the "standard" metric flavour measures them on their gray levels; see
    :func:`srgan_lib.evaluate.score_pair`).
    """

    def __init__(self, items: Iterable[tuple[str, np.ndarray, np.ndarray]] = (), name: str = "",
                 scale: int = SCALE, folder: Path | None = None, gray: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.name, self.scale, self.folder, self.gray = name, scale, folder, frozenset(gray)

    @property
    def names(self) -> list[str]:
        return [n for n, _, _ in self]

    def tensors(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(lr, hr)`` float tensors ``(3, h, w)``/``(3, H, W)`` in [0, 1]: the engine's ``val_pairs``."""
        return to_val_pairs(self)

    def __repr__(self) -> str:
        return f"EvalSet({self.name!r}, scale={self.scale}, {len(self)} images, folder={str(self.folder)!r})"


def to_val_pairs(pairs: Iterable[tuple[str, np.ndarray, np.ndarray]]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(name, lr_uint8, hr_uint8)`` triples -> ``(lr, hr)`` float tensors in [0, 1] for
    :class:`srgan_lib.train.Trainer`'s ``val_pairs``."""
    from .images import uint8_to_tensor

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

    Each HR image is read with :func:`read_rgb` (grayscale files such as Set14's ``bridge`` become
    R = G = B), cropped top-left to a multiple of ``scale`` (``modcrop``), and its LR is the
    MATLAB-era bicubic ``imresize(hr, 1/scale)`` (:func:`matlab_lr`); at x4 this reproduces the
    SelfExSR LR images the paper used bit for bit.

    Args:
        name_or_folder: a folder of HR images (e.g. ``../shared/datasets/Set5``), or a dataset name:
            ``Set5``, ``Set14``, ``BSD100``, ``Urban100``, ``DIV2K-valid``, ``Kodak24`` (any case;
            ``B100`` works too), looked up in ``root``.
        scale: 2, 3, 4 or 8.
        root: folder holding the named datasets; default: the first complete copy in
            :func:`srgan_lib.download.data_roots` (``$SRGAN_DATA``, ``~/.cache/srgan``,
            ``../shared/datasets`` beside a repository checkout); see :func:`srgan_lib.download.find_dataset`.
        download: fetch a named dataset that is missing (:func:`srgan_lib.download.download`, into
            ``root``, else ``$SRGAN_DATA``, else ``~/.cache/srgan``);
            without it a missing dataset raises :class:`srgan_lib.download.DatasetNotFound`, whose
            message says what to download, from where, and where to put it.
        limit: only the first ``limit`` images (sorted by file name).

    Returns:
        An :class:`EvalSet` (a list of ``(name, lr, hr)``; ``.tensors()`` gives ``val_pairs``).
    """
    from . import download as dl
    from .resize import modcrop

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
        rgb, _, mode = _read_with_mode(f)
        hr = modcrop(rgb, scale)  # (H - H % s, W - W % s, 3)
        if hr.shape[0] == 0 or hr.shape[1] == 0:
            raise ValueError(f"{f}: smaller than the scale {scale}; cannot make an LR image")
        items.append((f.stem, matlab_lr(np.ascontiguousarray(hr), scale), np.ascontiguousarray(hr)))
        if mode in GRAY_MODES:
            gray.add(f.stem)
    return EvalSet(items, name=set_name, scale=scale, folder=folder, gray=gray)
