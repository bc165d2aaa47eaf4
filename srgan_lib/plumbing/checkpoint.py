"""Plumbing, not part of the lesson: checkpoints and weight files, written atomically
(:func:`srgan_lib.plumbing.files.atomic_write`) and read without unpickling code.

- Training checkpoints (``torch.save`` of plain state_dicts, numbers, strings and tensors) are read back
  with ``torch.load(..., weights_only=True)``, which refuses arbitrary pickled objects.
- Weights for sharing are safetensors files with the model config in their metadata.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from .files import atomic_write, default_file_mode, folder_problem, make_folder, remove_stale_temps, try_lock


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Save a training checkpoint (a dict of state_dicts and plain values) atomically."""
    return atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` with ``torch.load(weights_only=True)``.

    A file holding pickled Python objects (which could run code when loaded) is refused without
    loading them; a corrupt file raises a short ``ValueError`` naming the file."""
    import pickle

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:  # weights_only refused a global: torch's message is 1,000 characters
        raise ValueError(f"{path}: refused: this file can run code when loaded (it holds pickled Python objects, "
                         "not only tensors); use a checkpoint written by srgan train or a .safetensors file") from exc
    except Exception as exc:  # truncated zip, ...
        reason = " ".join(str(exc).split())[:200]
        raise ValueError(f"{path}: not a readable srgan checkpoint ({type(exc).__name__}: {reason})") from exc


class RunFolderBusy(RuntimeError):
    """Another process holds the lock of a run folder."""


@contextmanager
def run_lock(folder: str | Path) -> Iterator[Path]:
    """Hold an OS lock (``flock`` on ``folder/.lock``) while a run writes into ``folder``.

    A second process that asks for the same folder gets :class:`RunFolderBusy` at once. The lock dies
    with the process (even on SIGKILL), so a crash never leaves the folder locked; on the way out (a finished
    run, or one that failed to start) the holder removes ``.lock`` too. Inside the lock, temporary files that a
    killed run left in the folder are removed. A folder that cannot be made or written (a file in the way, a
    read-only file system) is refused in one line. Without ``fcntl`` (Windows) the folder is not locked.
    """
    folder = make_folder(folder, "choose another --out")
    lock = folder / ".lock"
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, default_file_mode())
        except OSError as exc:
            raise type(exc)(f"{folder}: cannot hold a run ({folder_problem(folder, exc)}); choose another --out") \
                from exc
        if not try_lock(fd):
            os.close(fd)
            raise RunFolderBusy(f"{folder}: another srgan train is running in this folder (it holds {lock}); "
                                "wait for it to finish or choose another --out")
        if _same_file(fd, lock):
            break
        os.close(fd)  # the previous holder removed this .lock as we opened it: lock the new one
    else:
        raise RunFolderBusy(f"{folder}: another srgan train keeps taking this folder; choose another --out")
    try:
        remove_stale_temps(folder)
        yield folder
    finally:
        lock.unlink(missing_ok=True)  # while still held: a process that opened it before sees _same_file fail
        os.close(fd)  # releases the lock


def _same_file(fd: int, path: Path) -> bool:
    """True when the open ``fd`` is still the file at ``path`` (not one removed meanwhile)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def save_weights(model: nn.Module, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Save ``model``'s state_dict as safetensors, with ``metadata`` (JSON-encoded values) in the header."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {k: json.dumps(v) for k, v in (metadata or {}).items()}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def read_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a safetensors weight file: ``(state_dict, metadata)``; errors name the file."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: weight file not found")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = {k: json.loads(v) for k, v in (fh.metadata() or {}).items()}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:
        raise ValueError(f"{path}: not a readable safetensors weight file ({exc})") from exc
    return tensors, meta
