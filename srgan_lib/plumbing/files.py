"""Plumbing, not part of the lesson: image files in and out, and atomic writes.

Reading (:func:`read_rgb`)
    Any common file becomes ``(H, W, 3)`` uint8 RGB: grayscale and palette images are expanded,
    alpha is dropped (:func:`read_rgb_alpha` keeps it), 16-bit files are scaled to 8 bits, EXIF
    orientation is applied. A file that is empty, truncated or not an image raises ``ValueError``
    naming the file and the problem.

Suffixes
    :data:`IMAGE_SUFFIXES` are the files read (:func:`find_images`); :data:`SAVE_FORMATS` the subset
    :func:`save_image` writes, and :data:`ALPHA_SUFFIXES` the subset of those that can store alpha.

Writing (:func:`atomic_write`, :func:`save_image`)
    Every file the package writes (images, checkpoints, weights, prepared training images) goes through
    :func:`atomic_write`: a temporary file in the same folder, then a rename, so a crash leaves the old
    file or the new one, never half a file.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np

if TYPE_CHECKING:
    import torch

#: File endings read as images (:func:`find_images`; ``srgan upscale`` adds ``.gif``).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})
#: The Pillow format :func:`save_image` writes for each suffix it can write (all readable but ``.pgm``).
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF",
                ".tiff": "TIFF", ".webp": "WEBP", ".ppm": "PPM"}
#: Written suffixes whose format can store an alpha channel.
ALPHA_SUFFIXES = frozenset({".png", ".tif", ".tiff", ".webp"})
#: Pillow modes of single-channel image files.
GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})

# ------------------------------------------------------------------------------------------------
# Reading
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
    if not path.is_file():  # a FIFO would block Image.open, a device or socket is no image either
        raise ValueError(f"{path}: not a regular file (a pipe, device or socket); pass an image file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file (0 bytes), not an image")
    try:
        return Image.open(path)
    except UnidentifiedImageError as exc:
        raise ValueError(f"{path}: not an image file (or a format Pillow cannot read)") from exc
    except Exception as exc:  # noqa: BLE001 - Pillow's plugins raise many kinds (SyntaxError, struct.error, ...)
        raise _pillow_error(path, "corrupt image header", exc) from exc


def _pillow_error(path: Path, problem: str, exc: BaseException) -> BaseException:
    """The error to raise for any exception Pillow gave while reading ``path``: ``ValueError`` naming the file
    (too many pixels, or ``problem``); a ``MemoryError`` stays itself."""
    from PIL import Image

    if isinstance(exc, MemoryError):
        return exc
    if isinstance(exc, Image.DecompressionBombError):
        return ValueError(f"{path}: too many pixels to decode safely ({exc})")
    return ValueError(f"{path}: {problem} ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})")


def read_with_mode(path: str | Path) -> tuple[np.ndarray, np.ndarray | None, str]:
    """:func:`read_rgb_alpha` plus the file's Pillow mode (``"L"`` for a grayscale file, one of
    :data:`GRAY_MODES` for any single-channel file), from one open."""
    from PIL import ImageOps

    path = Path(path)
    im = _open_checked(path)
    try:
        with im:
            mode = im.mode
            im.load()  # decode now, so that truncated data fails here, with the file's name
            im = ImageOps.exif_transpose(im)
    except Exception as exc:  # noqa: BLE001 - whatever a plugin raises on a damaged file
        raise _pillow_error(path, "truncated or corrupt image data", exc) from exc
    return (*_convert_mode(im, path), mode)


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
    rgb, alpha, _ = read_with_mode(path)
    return rgb, alpha


def read_rgb(path: str | Path) -> np.ndarray:
    """Read any common image file as ``(H, W, 3)`` uint8 RGB, honouring EXIF orientation.

    Alpha is dropped: training and evaluation use the colour channels only (as stored; transparent
    pixels keep whatever colour the file holds). Use :func:`read_rgb_alpha` to keep it. See
    :func:`read_rgb_alpha` for the modes handled and the errors raised (``ValueError`` naming the file
    for empty, truncated or non-image files).
    """
    return read_rgb_alpha(path)[0]


def as_rgb_uint8(img: np.ndarray, name: str) -> np.ndarray:
    """Accept ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` uint8 (alpha dropped, as in
    :func:`read_rgb`) and return ``(H, W, 3)``; anything else raises ``ValueError`` naming ``name``."""
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


def image_header(path: str | Path) -> tuple[int, int, int]:
    """``(width, height, frames)`` of an image file as stored (no EXIF rotation), from its header only; errors
    name the file (missing, a folder, empty, not an image, a corrupt header)."""
    path = Path(path)
    with _open_checked(path) as im:
        try:  # counting frames seeks through the file: a truncated GIF or TIFF fails here
            return im.size[0], im.size[1], int(getattr(im, "n_frames", 1))
        except Exception as exc:  # noqa: BLE001 - IndexError, TypeError, struct.error, ... from the plugins
            raise _pillow_error(path, "truncated or corrupt image (its frames cannot be counted)", exc) from exc


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
# Writing
# ------------------------------------------------------------------------------------------------


def default_file_mode() -> int:
    """The permissions a newly created file gets under the current umask (usually 0644)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def try_lock(fd: int) -> bool:
    """Take an exclusive, non-blocking OS lock (``flock``) on ``fd``; False if another process holds it.
    The lock dies with the process (or the file's last close). Always True where ``fcntl`` is missing."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def temp_file_beside(path: Path) -> tuple[int, str]:
    """``(fd, name)`` of a new temporary file ``.NAME.XXXXXXXX.tmp`` in ``path``'s folder, with normal
    permissions (``mkstemp`` alone makes it 0600, which would carry over to the renamed result).

    The file is locked (``flock``) while ``fd`` is open, so :func:`remove_stale_temps` can tell a file
    being written from one left behind by a killed process."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, default_file_mode())
    try_lock(fd)
    return fd, tmp


#: Names made by :func:`temp_file_beside` (``mkstemp`` adds 8 characters of ``[a-z0-9_]``).
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def remove_stale_temps(folder: "str | os.PathLike[str]", names: "str | Iterable[str] | None" = None) -> list[Path]:
    """Delete the temporary files that a killed write left in ``folder`` (only those of the files
    ``names``, if given) and return them. A temporary file still locked by a live writer is kept."""
    folder = Path(folder)
    prefixes = None if names is None else tuple(f".{n}." for n in ([names] if isinstance(names, str) else names))
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _TEMP_NAME.match(entry.name) or (prefixes is not None and not entry.name.startswith(prefixes)):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY)
        except OSError:
            continue
        try:
            if entry.is_file(follow_symlinks=False) and try_lock(fd):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def describe_write_error(exc: BaseException) -> str:
    """A short reason for a failed write: "the disk is full" for ENOSPC (also torch's RuntimeErrors from its
    zip writer, ``inline_container.cc``: ``PytorchStreamWriter failed writing`` or ``unexpected pos``, what
    ``torch.save`` says on a full disk), "read-only file system" for EROFS, otherwise the OS's own words."""
    text = str(exc)
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or "write failed" in text \
            or "failed writing" in text or "inline_container.cc" in text:
        return "the disk is full (or over quota): free some space or write somewhere else"
    if getattr(exc, "errno", None) == errno.EROFS:
        return "read-only file system"
    return getattr(exc, "strerror", None) or " ".join(text.split())[:200]


def folder_problem(path: "str | os.PathLike[str]", exc: BaseException | None = None) -> str:
    """Why files cannot be made in the folder ``path``, in a few words: a file where it or one of its parents
    should be a folder, a read-only file system, no permission, a full disk (``exc``: the error seen, if any)."""
    path = Path(path)
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                return f"{p} is a file, not a folder"
            break
    if exc is not None and getattr(exc, "errno", None) not in (errno.EACCES, errno.EPERM):
        return describe_write_error(exc)
    try:
        if os.statvfs(p).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except (OSError, AttributeError):  # no statvfs (Windows)
        pass
    return "no permission to write there"


def make_folder(path: "str | os.PathLike[str]", advice: str) -> Path:
    """Create the folder ``path`` (and its parents) if it is missing, and check that files can be made in it.

    A failure is one line: the path, the reason (:func:`folder_problem`: a file in the way, a read-only file
    system, no permission, a full disk) and ``advice``, what to do (e.g. "choose another --out"). The error keeps
    its kind (``NotADirectoryError``, ``FileExistsError``, ``PermissionError``, ...), never the OS's raw words."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise type(exc)(f"{path}: cannot be used as a folder ({folder_problem(path, exc)}); {advice}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise PermissionError(f"{path}: cannot write in this folder ({folder_problem(path)}); {advice}")
    return path


def _exists_error(path: Path) -> FileExistsError:
    return FileExistsError(f"{path}: already exists (pass overwrite=True to replace it)")


def atomic_write(path: str | Path, write: Callable[[str], None], *, overwrite: bool = True) -> Path:
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then rename it over ``path``.

    The package's one way of writing a file. A crash or interruption leaves either the old file or the
    new one, never half a file; temporary files that an earlier, killed write left for ``path`` are
    removed first (:func:`remove_stale_temps`), and this write's own temporary file on any error. The
    folder is created if needed.

    ``overwrite=False`` never touches an existing ``path``: the final step is then a hard link, which
    fails atomically (``FileExistsError``) if the name was taken meanwhile.

    Raises:
        FileExistsError: ``overwrite`` is false and ``path`` exists.
        PermissionError: the folder cannot be written (the message names it and says "not writable").
        OSError: any other failed write (disk full, ...), naming ``path`` and saying that the old file
            is unchanged (or that nothing was written).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, path.name)
    fd, tmp = None, None
    try:
        fd, tmp = temp_file_beside(path)  # fd stays open (the temp file locked) until the rename
        write(tmp)
        os.chmod(tmp, default_file_mode())  # writers such as safetensors may recreate the file as 0600
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic "create if absent"
            except FileExistsError:
                raise _exists_error(path) from None
            except OSError:  # file systems without hard links: best effort
                if path.exists():
                    raise _exists_error(path) from None
                os.replace(tmp, path)
    except FileExistsError:
        raise
    except PermissionError as exc:
        raise PermissionError(f"{path}: the folder {path.parent} is not writable ({describe_write_error(exc)})") \
            from exc
    except (OSError, RuntimeError) as exc:  # torch.save reports a full disk as a RuntimeError
        old = "the previous file is unchanged" if path.exists() else "nothing was written"
        raise OSError(f"{path}: could not write ({describe_write_error(exc)}); {old}") from exc
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _as_saveable(img: "np.ndarray | torch.Tensor") -> np.ndarray:
    """``(H, W)``, ``(H, W, 1|3|4)`` uint8 arrays pass through; a ``(3, H, W)`` float tensor in [0, 1]
    is converted with :func:`srgan_lib.images.tensor_to_uint8`."""
    import torch  # here, not at the top: `srgan --help` and `python -m srgan_lib.plumbing.download` need no torch

    from ..images import tensor_to_uint8

    if isinstance(img, torch.Tensor):
        if img.ndim == 4 and img.shape[0] == 1:
            img = img[0]  # (1, 3, H, W) -> (3, H, W)
        return tensor_to_uint8(img)
    arr = np.asarray(img)
    if arr.dtype != np.uint8:
        raise ValueError(f"save_image expects uint8 pixels (or a float tensor in [0, 1]), got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]  # (H, W, 1) -> (H, W)
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ValueError(f"save_image expects an (H, W), (H, W, 3) or (H, W, 4) image, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def save_image(path: "str | os.PathLike[str]", img: "np.ndarray | torch.Tensor", overwrite: bool = False,
               **save_kwargs) -> Path:
    """Write an image file atomically (:func:`atomic_write`): a temporary file in the same folder, then a rename.

    Args:
        path: destination; the suffix picks the format (:data:`SAVE_FORMATS`: ``.png``, ``.jpg``, ``.bmp``,
            ``.tif``, ``.webp``, ``.ppm``).
        img: ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` uint8 array, or a ``(3, H, W)`` float tensor in [0, 1].
        overwrite: replace an existing file. Without it an existing ``path`` is never touched (the
            final step is a hard link, which fails atomically if the name was taken meanwhile).
        save_kwargs: passed to ``PIL.Image.save`` (e.g. ``quality=95``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        FileNotFoundError: the folder does not exist.
        NotADirectoryError: the "folder" is a file.
        PermissionError: the folder cannot be written.
        ValueError: unknown suffix or an image of the wrong shape or type.

    A crash or interruption leaves either no file (or the old one) or the complete new one, never half
    a file; the temporary file is removed on any error.
    """
    from PIL import Image

    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown image file type {path.suffix!r}; use one of {sorted(SAVE_FORMATS)}")
    arr = _as_saveable(img)
    if fmt == "JPEG" and arr.ndim == 3 and arr.shape[2] == 4:
        raise ValueError(f"{path}: JPEG cannot store an alpha channel; save as .png or drop the alpha")
    folder = path.parent
    if not folder.exists():
        raise FileNotFoundError(f"{path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{path}: {folder} is not a folder")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder, not a file name")
    if path.exists() and not overwrite:
        raise _exists_error(path)
    return atomic_write(path, lambda tmp: Image.fromarray(arr).save(tmp, format=fmt, **save_kwargs),
                        overwrite=overwrite)
