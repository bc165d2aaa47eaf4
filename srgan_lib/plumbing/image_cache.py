"""Plumbing, not part of the lesson: where training images are kept while patches are cut from them.

:class:`srgan_lib.data.PatchDataset` crops its 96 x 96 patches from an :class:`ImageStore`, made of decoded arrays
by :func:`image_store`, or of image files by :func:`load_images` (through
:meth:`~srgan_lib.data.PatchDataset.from_files`), which keeps them the fastest way that fits:

- a list of decoded uint8 arrays, in memory, when they fit in the memory limit;
- :class:`MappedImages`: every file decoded once into one memory-mapped ``.npy`` (:func:`prepare_images`),
  the default for large sets such as DIV2K, re-used while the files are unchanged;
- :class:`LazyImages`: files decoded on demand, with a small LRU cache (slow for 2K images).

The store never changes the patches: item ``i`` is the same crop whichever is used (tested).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Union

import numpy as np
from tqdm.auto import tqdm

from .download import DATA_ENV, data_root
from .files import as_rgb_uint8, atomic_write, image_size, make_folder, read_rgb, remove_stale_temps

#: Without ``max_memory_bytes``, images are kept decoded in memory while they need at most this
#: fraction of the machine's physical memory (4 GiB where it cannot be read).
DEFAULT_MEMORY_FRACTION = 0.5


def default_memory_limit() -> int:
    """Bytes of decoded uint8 images :func:`load_images` keeps in memory by default."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30
    return int(total * DEFAULT_MEMORY_FRACTION)


class LazyImages(Sequence):
    """Image files decoded on demand, the last ``cache_images`` decoded ones kept (LRU).

    Used by :func:`load_images` with ``prepare=False`` when the decoded images would not fit
    in the memory limit. Every DataLoader worker has its own cache (of ``cache_images`` images), so
    memory grows with the worker count. Random crops from many images mostly miss the cache, so each
    patch then costs a full image decode: for 2K images about 16 pairs per CPU-second against about
    12,000 from memory or from a prepared memory-mapped file (:func:`prepare_images`, the default for
    large sets). Only the headers are read up front, so a file with
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


#: :func:`load_images` (``prepare=None``) prepares a memory-mapped file (:func:`prepare_images`)
#: when the decoded images need more than this many bytes; smaller sets are decoded into memory.
PREPARE_ABOVE_BYTES = 256 * 2**20
_PREPARED_VERSION = 2  # bump when the file layout or the key changes: older files are then prepared again
#: Bytes read from the start and from the end of each image file for :func:`_prepared_key` (a PNG ends with the
#: checksum of all its pixels; a 2K DIV2K photograph is about 4 MB, so 800 of them cost 25 MB of reads).
KEY_EDGE_BYTES = 16 * 2**10


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
        view = self._array()[start : start + h * w * 3]
        if view.size != h * w * 3:
            raise ValueError(f"{self.data_file}: image {k} ({self.paths[k]}, {w}x{h}) lies beyond the end of the "
                             "file; delete the file and its .json index to prepare the images again")
        return view.reshape(h, w, 3)  # a view, no copy

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


def _edges_digest(path: Path, size: int) -> str:
    """SHA-256 of the first and the last :data:`KEY_EDGE_BYTES` of a file (the whole file when it is small)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read(KEY_EDGE_BYTES))
        if size > KEY_EDGE_BYTES:
            fh.seek(max(KEY_EDGE_BYTES, size - KEY_EDGE_BYTES))
            h.update(fh.read(KEY_EDGE_BYTES))
    return h.hexdigest()[:16]


def _prepared_key(paths: Sequence[Path]) -> tuple[str, list[dict]]:
    """A digest of the files' resolved paths, byte sizes, modification times and the hash of their first and last
    :data:`KEY_EDGE_BYTES` (so a file rewritten with the same size and time is seen: a PNG's tail holds the
    checksum of all its pixels; a JPEG or BMP changed only in its middle is not), and those entries."""
    entries = []
    for p in paths:
        st = p.stat()
        entries.append({"path": str(p.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns,
                        "edges": _edges_digest(p, st.st_size)})
    blob = json.dumps([_PREPARED_VERSION, entries], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20], entries


def _load_prepared(index_file: Path, key: str, paths: Sequence[Path]) -> MappedImages | None:
    """The prepared images recorded in ``index_file`` when it matches ``key`` and its data file is complete."""
    try:
        index = json.loads(index_file.read_text())
        if index.get("version") != _PREPARED_VERSION or index.get("key") != key:
            return None
        data_file = index_file.with_suffix(".npy")
        data = np.load(data_file, mmap_mode="r")
        if data.dtype != np.uint8 or data.shape != (int(index["total_bytes"]),):
            return None
        files = index["files"]
        sizes, offsets = [(int(f["height"]), int(f["width"])) for f in files], [int(f["offset"]) for f in files]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, truncated or foreign: prepare again
    ends = np.cumsum([0] + [h * w * 3 for h, w in sizes]).tolist()
    if len(files) != len(paths) or offsets != ends[:-1] or ends[-1] != int(index["total_bytes"]):
        warnings.warn(f"{index_file}: its offsets and sizes do not lay the {len(paths)} images out one after the "
                      "other in its data file (damaged or edited); preparing the images again", stacklevel=3)
        return None
    return MappedImages(data_file, paths, sizes, offsets)


def _remove_stale(cache_dir: Path, source: str, keep_key: str) -> None:
    """Delete older preparations of the same ``source`` folder and temporary files of killed preparations."""
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
    (:func:`srgan_lib.plumbing.files.read_rgb` pixels, row-major) one after the other; ``<folder>-<key>.json`` (the index) holds
    each file's offset, size, byte count and modification time. ``key`` digests the files' paths,
    byte sizes, modification times and the hash of their first and last 16 KiB (:data:`KEY_EDGE_BYTES`), so
    adding, removing, replacing or touching a file makes a new preparation (and the old one of the same folder is
    deleted), and so does a file rewritten in place with the same size and time, unless only its middle changed
    (possible for a JPEG or BMP; a PNG ends with the checksum of all its pixels). An index that does not lay its
    images out one after the other is set aside with a warning.

    Memory: images are decoded and written one at a time, so the process holds one decoded image
    (about 8 MB for 2K) whatever the number of files. Disk: the decoded size (800 images of 2040 x 1356:
    6.2 GiB).

    Atomic: the data file is written under a temporary name and renamed, then the index is written the
    same way (:func:`srgan_lib.plumbing.files.atomic_write`); an index is only trusted when its key matches
    and its data file has the recorded length, so an interrupted or killed preparation is never used
    (its temporary file is deleted on an exception, or by the next preparation once no live process holds
    its lock: :func:`srgan_lib.plumbing.files.remove_stale_temps`).

    Args:
        paths: the image files, in the order the dataset will index them.
        cache_dir: where the files go; default ``<data root>/prepared`` (``$SRGAN_DATA``, else
            ``~/.cache/srgan``). Keep it on a local disk: random reads from a network drive (Google
            Drive on Colab) are slow.
        progress: show a progress bar while decoding.

    Raises:
        ValueError: a file is not a readable image (the message names it).
        OSError: ``cache_dir`` cannot be made or written (a file in the way, read-only, full), in one line.
    """
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
    make_folder(cache_dir, f"set {DATA_ENV} to a writable folder, or pass cache_dir (prepare=False decodes the "
                           "images without it)")
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


def keep_large_enough(names: Sequence[str], sizes: Sequence[tuple[int, int]], crop: int,
                      skip_small: bool, stacklevel: int = 3) -> list[int]:
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
                      + (" ..." if len(small) > 5 else ""), stacklevel=stacklevel)
    return keep


Store = Union[List[np.ndarray], LazyImages, MappedImages]


@dataclass(frozen=True)
class ImageStore:
    """The images a :class:`~srgan_lib.data.PatchDataset` crops from: ``images`` (``(H, W, 3)`` uint8 arrays in
    memory, a :class:`LazyImages` or a :class:`MappedImages`), their ``sizes`` ``(H, W)`` and their ``names`` (for
    error messages). Made by :func:`image_store` (arrays) or :func:`load_images` (files)."""

    images: Store
    sizes: list[tuple[int, int]]
    names: list[str]

    def __len__(self) -> int:
        return len(self.sizes)

    @property
    def lazy(self) -> bool:
        """True when images are decoded on demand (:class:`LazyImages`) rather than held in memory."""
        return isinstance(self.images, LazyImages)

    @property
    def prepared(self) -> bool:
        """True when crops come from a memory-mapped file (:func:`prepare_images`)."""
        return isinstance(self.images, MappedImages)


def image_store(images: "Sequence[np.ndarray] | LazyImages | MappedImages", names: Sequence[str] | None = None, *,
                crop: int, skip_small: bool = False) -> ImageStore:
    """The :class:`ImageStore` of images already decoded (or of a :class:`LazyImages` / :class:`MappedImages`).

    ``images``: ``(H, W, 3)`` uint8 arrays (``(H, W)`` gray and ``(H, W, 4)`` are accepted; alpha is
    dropped: :func:`srgan_lib.plumbing.files.as_rgb_uint8`), a :class:`LazyImages` or a :class:`MappedImages`.
    ``names`` (default: file names, or ``image k``) name the images in errors. Images smaller than
    ``crop`` raise ``ValueError``, or are left out with a warning when ``skip_small``; none left raises.
    """
    if isinstance(images, (LazyImages, MappedImages)):
        names = list(names) if names is not None else [str(p) for p in images.paths]
        keep = keep_large_enough(names, images.sizes, crop, skip_small, stacklevel=4)
        store: Store = images if len(keep) == len(images) else images.subset(keep)
        sizes = [images.sizes[k] for k in keep]
    else:
        images = list(images)
        names = list(names) if names is not None else [f"image {k}" for k in range(len(images))]
        if len(names) != len(images):
            raise ValueError(f"{len(names)} names for {len(images)} images")
        arrays = [as_rgb_uint8(img, name) for img, name in zip(images, names)]
        keep = keep_large_enough(names, [a.shape[:2] for a in arrays], crop, skip_small, stacklevel=4)
        store = [arrays[k] for k in keep]
        sizes = [arrays[k].shape[:2] for k in keep]
    if not keep:
        raise ValueError(f"no training images (none given, or none at least {crop}x{crop})")
    return ImageStore(store, [(int(h), int(w)) for h, w in sizes], [names[k] for k in keep])


def load_images(
    files: Sequence[str | Path],
    *,
    crop: int,
    skip_small: bool = False,
    prepare: bool | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    max_memory_bytes: int | None = None,
    cache_images: int = 16,
) -> ImageStore:
    """The image files ``files`` at least ``crop x crop``, stored the fastest way that fits.

    Sizes are read from the file headers first (a bad file fails here, by name; smaller images are
    handled as in :func:`image_store`). Then:

    - ``prepare=True``, or ``None`` (default) with more than :data:`PREPARE_ABOVE_BYTES` of decoded
      pixels: decoded once into a memory-mapped file in ``cache_dir`` (:func:`prepare_images`),
      re-used by later runs while the files are unchanged (``progress``: its progress bar);
    - otherwise, decoded now and kept in memory when they need at most ``max_memory_bytes``
      (default :func:`default_memory_limit`: half the physical memory), else decoded on demand
      through a :class:`LazyImages` cache of ``cache_images`` images per worker (slow for 2K images).
    """
    files = [Path(f) for f in files]
    names = [str(f) for f in files]
    sizes = [image_size(f) for f in files]
    keep = keep_large_enough(names, sizes, crop, skip_small, stacklevel=4)
    if not keep:
        where = os.path.commonpath([str(f.parent) for f in files]) if files else "from_files"
        raise ValueError(f"{where}: no image at least {crop}x{crop} (of {len(files)} files)")
    files, names, sizes = [files[k] for k in keep], [names[k] for k in keep], [sizes[k] for k in keep]
    need = sum(h * w * 3 for h, w in sizes)
    if prepare or (prepare is None and need > PREPARE_ABOVE_BYTES):
        store: Store = prepare_images(files, cache_dir, progress=progress)
    elif need <= (default_memory_limit() if max_memory_bytes is None else int(max_memory_bytes)):
        store = [read_rgb(f) for f in files]
    else:
        store = LazyImages(files, sizes, cache_images)
    return ImageStore(store, [(int(h), int(w)) for h, w in sizes], names)
