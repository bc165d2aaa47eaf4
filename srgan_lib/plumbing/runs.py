"""Plumbing, not part of the lesson: a run folder, resumed after a restart or started fresh, and said which; and
:func:`run`, a run from start to end (lock, resume or fresh, fit, export, DDP teardown), the way the ``srgan``
command, the scripts and notebook 02 start one. :func:`start_run` is its first half, for a caller that drives
:meth:`~srgan_lib.train.Trainer.fit` itself (notebook 05 reads the history after a health-check stop).

"Run all" after a disconnected Colab runtime must continue the run it was doing, not start it again. :func:`start_run`
builds the :class:`~srgan_lib.train.Trainer` of a run folder: it resumes an unfinished run with the same identity
(content loss, VGG19 and factor, data, preset: :func:`~srgan_lib.plumbing.engine.check_identity`), and starts fresh
only on request (``fresh=True``) or when the folder's run was another one, explaining why. One ``last.pt`` is kept:
a fresh start replaces the old checkpoint rather than setting it aside, so a Drive folder does not fill up with
300 MB copies.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable

import torch.distributed as dist
from torch.utils.data import Dataset

from ..presets import TrainConfig
from ..train import EXPORT_NAME, Trainer
from .checkpoint import run_lock
from .engine import RunMismatch

def recipe_differences(saved: TrainConfig, now: TrainConfig) -> list[str]:
    """``name old -> new`` for each recipe setting (``TrainConfig.RECIPE``) on which two configs differ."""
    return [f"{k} {getattr(saved, k)!r} -> {getattr(now, k)!r}" for k in TrainConfig.RECIPE
            if getattr(saved, k) != getattr(now, k)]


def _shown(run_dir: Path) -> str:
    """How a note names ``run_dir``: a folder under the system's temporary directory by its name only (its full path
    is this machine's, meaningless in a committed notebook), any other folder as given."""
    if run_dir.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve()):
        return f"a temporary folder ({run_dir.name})"
    return str(run_dir)


def start_run(config: TrainConfig, train_set: Dataset, run_dir: str | Path, *, fresh: bool = False,
              replace: bool = True, **trainer_kwargs: Any) -> tuple[Trainer, str]:
    """``(trainer, note)``: the run in ``run_dir`` resumed from its ``last.pt`` when that is the same run, else a fresh
    one (``fresh=True``, no checkpoint, or a checkpoint of another run or another recipe (``TrainConfig.RECIPE``),
    which is then replaced). ``replace=False`` never replaces a checkpoint: another run's is refused
    (:class:`~srgan_lib.train.RunMismatch`) and one of another recipe is resumed with this config (the command line's
    way: it warns). ``note`` says which and why, in one line to print. Other keyword arguments go to
    :class:`~srgan_lib.train.Trainer`."""
    run_dir = Path(run_dir)
    last = run_dir / "last.pt"
    shown = _shown(run_dir)
    if last.is_file() and not replace:
        trainer = Trainer(config, train_set, run_dir, resume=True, **trainer_kwargs)
        return trainer, f"resuming {last} at step {trainer.step}"
    if last.is_file() and fresh:
        last.unlink()
        reason = "FRESH=True: starting over (the previous last.pt was removed)"
    elif last.is_file():
        try:
            trainer = Trainer(config, train_set, run_dir, resume=True, **trainer_kwargs)
        except RunMismatch as exc:
            last.unlink()
            reason = f"the checkpoint here was another run, started fresh (it was removed): {exc}"
        else:
            changed = recipe_differences(trainer.resumed_config, config)
            if changed:
                last.unlink()
                return Trainer(config, train_set, run_dir, resume=False, **trainer_kwargs), (
                    f"the checkpoint here was trained with another recipe ({'; '.join(changed)}), started fresh "
                    "(it was removed)")
            if trainer.step >= config.steps:
                return trainer, (f"{shown}/last.pt is a finished run ({trainer.step} of {config.steps} steps): "
                                 "nothing to train; FRESH=True starts it again")
            return trainer, (f"resuming {shown}/last.pt at step {trainer.step} of {config.steps} (the same content "
                             "loss, VGG19, data and preset); FRESH=True starts over")
    else:
        reason = f"a fresh run in {shown}"
    return Trainer(config, train_set, run_dir, resume=False, **trainer_kwargs), reason


def run(config: TrainConfig, train_set: Dataset, run_dir: str | Path, *, fresh: bool = False, replace: bool = True,
        overwrite: bool = False, steps: int | None = None, callback: Callable[[Trainer, dict], None] | None = None,
        on_start: Callable[[Trainer, str], None] | None = None, bn_batches: int = 0, export: bool = True,
        card: dict[str, Any] | None = None, **trainer_kwargs: Any) -> tuple[Trainer, Path | None]:
    """Train ``config`` in ``run_dir`` from start (or resume) to export; returns ``(trainer, exported path)``.

    Under the run folder's lock (rank 0): refuse to replace a ``generator.safetensors`` no run here wrote (unless
    ``overwrite``), :func:`start_run` (``fresh``, ``replace``), ``on_start(trainer, note)`` (to print what is about
    to run), :meth:`~srgan_lib.train.Trainer.fit` up to ``steps`` with ``callback``, precise BN on ``bn_batches``
    batches (0: none), the export of the validated generator beside ``last.pt`` (rank 0; ``card``: facts for its
    metadata; ``export=False``: none), and under ``torchrun``
    all processes leave the process group together. Other keyword arguments go to the Trainer."""
    run_dir = Path(run_dir)
    rank0 = int(os.environ.get("RANK", "0")) == 0  # torchrun: only rank 0 writes (and locks) the folder
    with run_lock(run_dir) if rank0 else nullcontext():
        generator = run_dir / EXPORT_NAME
        if generator.exists() and not (run_dir / "last.pt").is_file() and not overwrite and export:
            raise FileExistsError(f"{generator}: already exists and no run in this folder wrote it (no last.pt); "
                                  "pass overwrite=True to replace it, or choose another folder")
        trainer, note = start_run(config, train_set, run_dir, fresh=fresh, replace=replace, **trainer_kwargs)
        if on_start is not None:
            on_start(trainer, note)
        trainer.fit(steps, callback=callback)
        if bn_batches:
            trainer.recalibrate_bn(bn_batches)
        path = trainer.export(generator, **(card or {})) if export else None  # last.pt holds the same generator
        if trainer.engine.world > 1:  # all ranks leave together: a rank that exits while rank 0 still
            dist.barrier()  # exports tears gloo down under it (SIGABRT)
            dist.destroy_process_group()
    return trainer, path
