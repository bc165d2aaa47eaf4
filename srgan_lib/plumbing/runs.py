"""Plumbing, not part of the lesson: a notebook's run folder, resumed after a restart or started fresh, and said which.

"Run all" after a disconnected Colab runtime must continue the run it was doing, not start it again. :func:`start_run`
builds the :class:`~srgan_lib.train.Trainer` of a run folder: it resumes an unfinished run with the same identity
(content loss, VGG19 and factor, data, preset: :meth:`~srgan_lib.train.Trainer.check_identity`), and starts fresh
only on request (``fresh=True``) or when the folder's run was another one, explaining why. One ``last.pt`` is kept:
a fresh start replaces the old checkpoint rather than setting it aside, so a Drive folder does not fill up with
300 MB copies.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from ..train import RunMismatch, TrainConfig, Trainer

#: The settings that make a run's weights what they are, beside its identity (content loss, VGG19, data, preset):
#: a checkpoint trained with other values is another run, even when the identity matches. ``steps`` is not one:
#: a finished run may be extended.
RECIPE_FIELDS = ("mode", "scale", "n_blocks", "channels", "crop", "batch_size", "lr", "lr_d", "schedule",
                 "warmup_steps", "min_lr", "adversarial_weight", "init_generator", "seed", "freeze_bn", "ema_decay",
                 "d_head_start", "d_shift", "freeze_upsampling")


def recipe_differences(saved: TrainConfig, now: TrainConfig) -> list[str]:
    """``name old -> new`` for each :data:`RECIPE_FIELDS` setting on which two configs differ."""
    return [f"{k} {getattr(saved, k)!r} -> {getattr(now, k)!r}" for k in RECIPE_FIELDS
            if getattr(saved, k) != getattr(now, k)]


def _shown(run_dir: Path) -> str:
    """How a note names ``run_dir``: a folder under the system's temporary directory by its name only (its full path
    is this machine's, meaningless in a committed notebook), any other folder as given."""
    if run_dir.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve()):
        return f"a temporary folder ({run_dir.name})"
    return str(run_dir)


def start_run(config: TrainConfig, train_set: Dataset, run_dir: str | Path, *, fresh: bool = False,
              **trainer_kwargs: Any) -> tuple[Trainer, str]:
    """``(trainer, note)``: the run in ``run_dir`` resumed from its ``last.pt`` when that is the same run, else a fresh
    one (``fresh=True``, no checkpoint, or a checkpoint of another run or another recipe (:data:`RECIPE_FIELDS`),
    which is then replaced). ``note`` says which
    and why, in one line for the notebook to print. Other keyword arguments go to :class:`~srgan_lib.train.Trainer`."""
    run_dir = Path(run_dir)
    last = run_dir / "last.pt"
    shown = _shown(run_dir)
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
                return trainer, (f"{shown}/last.pt is a finished run ({trainer.step} of {config.steps} steps): nothing to train; "
                                 "FRESH=True starts it again")
            return trainer, (f"resuming {shown}/last.pt at step {trainer.step} of {config.steps} (the same content loss, VGG19, "
                             "data and preset); FRESH=True starts over")
    else:
        reason = f"a fresh run in {shown}"
    return Trainer(config, train_set, run_dir, resume=False, **trainer_kwargs), reason
