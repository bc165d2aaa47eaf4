"""Value ranges used by the paper (section 3.2), converted only at the edges.

- LR input to the generator: [0, 1].
- HR target and generator output: [-1, 1] (the pixel MSE is computed there).
- Images for display and files: [0, 1] floats or uint8.

Files are written with :func:`save_image`: atomically, never silently over an existing file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import torch


def unit_to_model(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1] (how HR targets enter the MSE, section 3.2)."""
    return x * 2.0 - 1.0


def model_to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] generator output -> displayable [0, 1], clamped."""
    return ((x + 1.0) / 2.0).clamp(0.0, 1.0)


#: Tolerance of :func:`check_unit_range`: half an 8-bit level, so values that still round to 0..255 pass.
UNIT_TOLERANCE = 0.5 / 255


def check_unit_range(x: "torch.Tensor | np.ndarray", name: str) -> None:
    """Refuse floats that are not finite or not in [0, 1] (within :data:`UNIT_TOLERANCE`), with a hint
    when they look like 0-255 levels or the generator's [-1, 1] range. Other dtypes are not checked."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind != "f" or x.size == 0:
            return
        bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    else:
        if not x.is_floating_point() or x.numel() == 0:
            return
        bad = int(x.numel() - torch.isfinite(x).sum())
    if bad:
        raise ValueError(f"{name}: {bad} value(s) are NaN or infinite; replace them (e.g. torch.nan_to_num) first")
    lo, hi = float(x.min()), float(x.max())
    if lo >= -UNIT_TOLERANCE and hi <= 1 + UNIT_TOLERANCE:
        return
    hint = ""
    if hi > 1 and hi <= 255.5 and lo >= -UNIT_TOLERANCE:
        hint = " (they look like 0-255 levels: divide by 255)"
    elif lo < 0 and lo >= -1 - UNIT_TOLERANCE and hi <= 1 + UNIT_TOLERANCE:
        hint = " (they look like the generator's [-1, 1] range: use model_to_unit, i.e. (x + 1) / 2)"
    raise ValueError(f"{name}: float values from {lo:.4g} to {hi:.4g}, but [0, 1] is expected{hint}")


def uint8_to_tensor(img: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 -> ``(3, H, W)`` float32 in [0, 1]."""
    if img.dtype != np.uint8 or img.ndim != 3:
        raise ValueError(f"expected an (H, W, C) uint8 array, got {img.dtype} with shape {img.shape}")
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div_(255.0)


def tensor_to_uint8(x: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` float in [0, 1] -> ``(H, W, 3)`` uint8, rounded half up and clamped."""
    if x.ndim != 3:
        raise ValueError(f"expected a (C, H, W) tensor, got shape {tuple(x.shape)}")
    y = (x.detach().float().cpu().clamp(0, 1) * 255.0 + 0.5).floor().to(torch.uint8)
    return y.permute(1, 2, 0).numpy()


# -- files ------------------------------------------------------------------------------------------

#: Pillow format used for each file suffix that :func:`save_image` writes.
_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF",
                 ".tiff": "TIFF", ".webp": "WEBP", ".ppm": "PPM"}


def _as_saveable(img: "np.ndarray | torch.Tensor") -> np.ndarray:
    """``(H, W)``, ``(H, W, 1|3|4)`` uint8 arrays pass through; a ``(3, H, W)`` float tensor in [0, 1]
    is converted with :func:`tensor_to_uint8`."""
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
    import tempfile

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
    """A short reason for a failed write: "the disk is full" for ENOSPC (also torch's
    ``PytorchStreamWriter failed writing`` RuntimeError), otherwise the OS's own words."""
    import errno

    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or "write failed" in str(exc) \
            or "failed writing" in str(exc):
        return "the disk is full (or over quota): free some space or write somewhere else"
    return getattr(exc, "strerror", None) or " ".join(str(exc).split())[:200]


def save_image(path: "str | os.PathLike[str]", img: "np.ndarray | torch.Tensor", overwrite: bool = False,
               **save_kwargs) -> "Path":
    """Write an image file atomically: a temporary file in the same folder, then a rename.

    Args:
        path: destination; the suffix picks the format (``.png``, ``.jpg``, ``.bmp``, ``.tif``, ``.webp``).
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
    fmt = _SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown image file type {path.suffix!r}; use one of {sorted(_SAVE_FORMATS)}")
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
        raise FileExistsError(f"{path}: already exists (pass overwrite=True to replace it)")
    try:
        fd, tmp = temp_file_beside(path)
    except PermissionError as exc:
        raise PermissionError(f"{path}: the folder {folder} is not writable ({exc.strerror})") from exc
    fh = os.fdopen(fd, "wb")  # kept open (and so locked) until the rename: see remove_stale_temps
    try:
        Image.fromarray(arr).save(fh, format=fmt, **save_kwargs)
        fh.flush()
        os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic "create if absent"
            except FileExistsError:
                raise FileExistsError(f"{path}: already exists (pass overwrite=True to replace it)") from None
            except OSError:  # file systems without hard links: best effort
                if path.exists():
                    raise FileExistsError(f"{path}: already exists (pass overwrite=True to replace it)") from None
                os.replace(tmp, path)
    except FileExistsError:
        raise
    except PermissionError as exc:
        raise PermissionError(f"{path}: the folder {folder} is not writable ({exc.strerror})") from exc
    except OSError as exc:
        raise OSError(f"{path}: could not write the image ({describe_write_error(exc)})") from exc
    finally:
        fh.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
