"""Plumbing, not part of the lesson: the training engine's production extras.

:class:`~srgan_lib.train.Trainer` is the paper's loop (section 3.2). What a long run needs around it lives
here, each part switched by a :class:`~srgan_lib.train.TrainConfig` field and called from the loop at one
named point (``self.engine.step(...)``, ``self.engine.wrap(...)``, ``run.check(...)``):

- where tensors live: the device, distributed data parallel under ``torchrun`` (each process its own samples,
  :meth:`Engine.batches`), ``channels_last`` and ``torch.compile`` (:meth:`Engine.wrap`);
- mixed precision on CUDA (:meth:`Engine.autocast`): bf16 where the GPU has it natively (compute capability
  >= 8.0), otherwise fp16 with one GradScaler per network, the path a T4 needs (:meth:`Engine.step`; see
  :func:`~srgan_lib.plumbing.runtime.amp_dtype_for`);
- the GAN recipe's options that are not in the paper: an exponential moving average of G (``ema_decay``),
  ``freeze_bn`` (:meth:`Engine.train_mode`), D's random window (``d_shift``, :meth:`Engine.d_window`) and the
  VGG factor measured by the paper's criterion (``vgg_rescale="auto"``, :meth:`Engine.measure_vgg_rescale`);
- exact resume: the scalers, the average, every RNG state and the sums not yet logged go into the checkpoint
  (:meth:`Engine.state_dict`), and data loading never draws from the global RNGs, so a resumed run's weights,
  optimizers, random states and history equal an uninterrupted run's (all but ``sec_per_step``, a clock reading);
- a run's safety (:class:`Session`): SIGINT saves before stopping, and health checks (non-finite losses, a
  discriminator stuck at 100 % or at chance) raise :class:`TrainingDiverged` naming the checkpoint to go back to;
- precise BN (:meth:`Engine.recalibrate_bn`);
- the check of every option of a config, one line per bad value (:func:`check_options`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import signal
import threading
import time
import warnings
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from .. import losses, vgg
from . import runtime

RESCALE_BATCHES = 4  # vgg_rescale="auto": measured on the first 4 training batches (64 patches at batch 16)


class TrainingDiverged(RuntimeError):
    """Raised when a run goes wrong in a known way; the message says which checkpoint to go back to."""


class Engine:
    """The production extras of one run, for a :class:`~srgan_lib.train.Trainer` with ``config``.

    ``device``: ``None`` picks one (:func:`~srgan_lib.plumbing.runtime.pick_device`); under ``torchrun`` each process
    takes its ``LOCAL_RANK`` GPU. ``out_dir``: the run's folder (health messages name its ``last.pt``).
    """

    def __init__(self, config: Any, out_dir: str | Path, device: str | torch.device | None = None,
                 progress: bool = True) -> None:
        self.config, self.out_dir = config, Path(out_dir)
        self.rank, self.world = _distributed()
        self.device = runtime.pick_device(None if device is None else str(device))
        if self.world > 1 and self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(self.device)
        self.progress = progress and self.rank == 0
        self.amp_dtype = runtime.amp_dtype_for(self.device, enabled=config.amp, cpu_bf16=config.cpu_bf16)  # native only
        self.precision = runtime.describe_precision(self.device, self.amp_dtype)  # one line, printed at start
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        fp16 = self.amp_dtype == torch.float16
        nets = ("g", "d") if config.mode == "srgan" else ("g",)
        self.scalers = {n: torch.amp.GradScaler("cuda", enabled=fp16) for n in nets}  # one per network
        self.ema: AveragedModel | None = None
        self.run: Session | None = None  # the fit in progress: its unlogged sums go into checkpoints
        self._resumed_sums: dict[str, Any] | None = None  # a checkpoint's, for the next session
        self.wrapped: dict[int, nn.Module] = {}  # id(bare module) -> what wrap() returned for it
        runtime.configure_backends(self.device)  # cudnn.benchmark on CUDA

    # -- models ---------------------------------------------------------------------------------------
    def place(self, model: nn.Module) -> nn.Module:
        """``model`` moved to the run's device, in its memory format (channels_last by default)."""
        return model.to(self.device, memory_format=self.memory_format)

    def wrap(self, model: nn.Module | None) -> nn.Module | None:
        """``model`` as the steps call it: compiled with ``compile``, in DistributedDataParallel under torchrun."""
        if model is None:
            return None
        bare = model
        if self.config.compile:
            model = torch.compile(model)
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.wrapped[id(bare)] = model
        return model

    def track_average(self, generator: nn.Module) -> None:
        """With ``ema_decay`` > 0, start torch's own averaged copy of G (weights and BN statistics; the first
        update copies G). Not in the paper (BasicSR and ESRGAN-era recipes use 0.999)."""
        if self.config.ema_decay:
            self.ema = AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(self.config.ema_decay),
                                     use_buffers=True)

    def update_average(self, generator: nn.Module) -> None:
        """After a G step: ``avg = decay * avg + (1 - decay) * G`` (nothing without ``ema_decay``)."""
        if self.ema is not None:
            self.ema.update_parameters(generator)

    def train_mode(self, model: nn.Module, mode: bool) -> None:
        """``model.train(mode)``, but with ``freeze_bn`` the batch-norm layers stay in eval mode."""
        model.train(mode)
        if self.config.freeze_bn:
            for m in model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()

    # -- data and steps -------------------------------------------------------------------------------
    def batches(self, dataset: Dataset, first: int, last: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The ``(lr, hr)`` batches of steps ``first .. last - 1`` on the device, as ``dataset`` gives them; under
        torchrun each process its own samples, and a resumed run sees what an uninterrupted one would."""
        c = self.config
        sampler = _IndexRange(first, last, c.batch_size, self.rank, self.world)
        # its own generator: a loader draws its workers' base seed from it, which would otherwise advance torch's
        # global one, once per fit (a resumed run's saved random state would differ from an uninterrupted one's)
        loader = DataLoader(dataset, batch_size=c.batch_size, sampler=sampler, num_workers=c.num_workers,
                            pin_memory=self.device.type == "cuda", persistent_workers=False, drop_last=False,
                            generator=torch.Generator().manual_seed(c.seed))
        for lr, hr in loader:
            yield (lr.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format),
                   hr.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format))

    @contextmanager
    def frozen(self, model: nn.Module) -> Iterator[nn.Module]:
        """``model``'s parameters with ``requires_grad=False`` inside the block (restored after), and the module to
        call: the wrapped one (compiled) in one process; under DDP the bare module, whose forward does not arm DDP's
        gradient all-reduce for weights that get no gradient. Gradients still flow through it to its input."""
        flags = [(p, p.requires_grad) for p in model.parameters()]
        for p, _ in flags:
            p.requires_grad_(False)
        try:
            yield model if self.world > 1 else self.wrapped.get(id(model), model)
        finally:
            for p, flag in flags:
                p.requires_grad_(flag)

    def autocast(self) -> Any:
        """Mixed precision on CUDA (bf16, or fp16 on a T4) and, with ``cpu_bf16``, on a CPU with AMX (bf16); a no-op
        context elsewhere or with ``amp=False``."""
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, net: str) -> None:
        """``optimizer.zero_grad(); loss.backward(); optimizer.step()`` through network ``net``'s GradScaler:
        with fp16 the loss is scaled up before backward and the gradients back down before the step (skipped
        when they overflowed); with bf16 or float32 the scaler passes everything through unchanged."""
        scaler = self.scalers[net]
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    def d_window(self, shape: torch.Size, step: int) -> tuple[slice, ...]:
        """The index of what D sees of a batch of ``shape`` at ``step``: all of it, or with ``d_shift`` = s one
        (H - s) x (W - s) window at a random offset in 0..s, the same for real and generated crops (not in the
        paper; :class:`~srgan_lib.train.TrainConfig` says why). The offset is a function of (seed, step), so a
        resumed run draws the same ones."""
        s = self.config.d_shift
        if not s:
            return (slice(None),)
        dy, dx = (int(v) for v in np.random.default_rng([self.config.seed, step]).integers(0, s + 1, 2))
        return (slice(None), slice(None), slice(dy, shape[2] - s + dy), slice(dx, shape[3] - s + dx))

    def mean_over_processes(self, value: float) -> float:
        """``value`` averaged over the torchrun processes (each measured its own batches); itself in one."""
        if self.world == 1:
            return value
        t = torch.tensor(value, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return float(t) / self.world

    def measure_vgg_rescale(self, extractor: vgg.VGGFeatures, generator: nn.Module,
                            batches: Callable[[int, int], Iterator[tuple[torch.Tensor, torch.Tensor]]]) -> float:
        """``vgg_rescale="auto"`` (a stated deviation): the factor by section 3.2's criterion
        (:func:`~srgan_lib.vgg.vgg_rescale_for`) on the first :data:`RESCALE_BATCHES` training batches
        (``batches(first, last)``, HR in [-1, 1]) with the initial generator, averaged over processes; printed."""
        value = self.mean_over_processes(vgg.vgg_rescale_for(extractor, generator, batches(0, RESCALE_BATCHES)))
        if self.rank == 0:
            init = self.config.init_generator
            start = Path(init).name if init else "an UNTRAINED generator (the criterion assumes a trained SRResNet)"
            print(f"VGG rescale (auto): {value:.4g}, measured on {RESCALE_BATCHES} batches from {start}; "
                  f"the paper's 1/12.75 = {losses.VGG_RESCALE:.4g} | {extractor.label}", flush=True)
        return value

    # -- checkpoints ----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The checkpoint's share of the extras: ``scaler_g`` (and ``scaler_d``), ``rng``, ``generator_ema``, and
        ``log_sums``, the sums of the steps since the last log (so a resumed run logs the same means)."""
        state: dict[str, Any] = {f"scaler_{n}": s.state_dict() for n, s in self.scalers.items()}
        state["rng"] = rng_state()
        if self.run is not None:
            state["log_sums"] = self.run.unlogged()
        if self.ema is not None:
            state["generator_ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any], path: str | Path) -> None:
        """Restore what :meth:`state_dict` saved in checkpoint ``path``; call it last, as it sets the RNGs."""
        for n, scaler in self.scalers.items():
            scaler.load_state_dict(state[f"scaler_{n}"])
        if self.ema is not None:
            if "generator_ema" in state:
                self.ema.load_state_dict(state["generator_ema"])
            else:  # the run was started without an average: begin one from the resumed weights
                warnings.warn(f"{path}: the checkpoint holds no moving average of G (it was saved with ema_decay=0); "
                              "the average starts from the resumed generator", stacklevel=3)
        set_rng_state(state["rng"])
        self._resumed_sums = state.get("log_sums")

    # -- around the loop ------------------------------------------------------------------------------
    def check_start(self, step: int) -> None:
        """Warn when a run starts from trained weights with a fresh Adam and no warm-up."""
        c = self.config
        if c.init_generator and not c.warmup_steps and step == 0:  # a resumed Adam is not fresh
            warnings.warn(
                f"starting from trained weights ({c.init_generator}) with a fresh Adam and no warm-up: "
                "Adam's first steps move every weight by about the full learning rate (at 1e-4 that cost the "
                "shipped SRResNet 0.8 dB on Set5 in 10 steps); warmup_steps=100 avoids it, as the SRGAN "
                "cpu/colab presets do",
                stacklevel=3,
            )

    @contextmanager
    def session(self, first: int, last: int) -> Iterator["Session"]:
        """The plumbing of one ``fit`` from step ``first`` to ``last``: SIGINT turned into a flag checked
        between steps, a progress bar, running means of the logged values, health checks."""
        with _stop_on_sigint() as flag:
            run = Session(self, first, last, flag)
            if self._resumed_sums is not None:
                run.resume(self._resumed_sums)
                self._resumed_sums = None
            self.run = run
            try:
                yield run
            finally:
                self.run = None
                run.bar.close()

    @torch.no_grad()
    def recalibrate_bn(self, g: nn.Module, dataset: Dataset, batches: int = 100) -> None:
        """Recompute ``g``'s BN running statistics with its final weights ("precise BN").

        During training the running averages mix statistics of many past weight states (momentum 0.1);
        with a large learning rate they lag the weights, and at test time (section 3.2: statistics frozen)
        that shows as a colour/brightness offset. Averaging the batch statistics of ``batches`` fresh
        training batches with the weights fixed removes the lag. Weights are not changed.

        With ``freeze_bn`` the statistics were never updated by the run (they are the trained ones the run
        started from, and the crops of a short run need not match them): nothing is recomputed.
        """
        if self.config.freeze_bn:
            return
        bns = [m for m in g.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if not bns:
            return
        saved = [(m.momentum, m.training) for m in bns]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average: the plain mean over the batches seen
        was_training = g.training
        g.train()
        start = self.config.steps  # samples beyond the run's own, so the training order is untouched
        for lr, _ in self.batches(dataset, start, start + batches):
            with self.autocast():
                g(lr)
        for m, (momentum, _) in zip(bns, saved):
            m.momentum = momentum
        g.train(was_training)


class Session:
    """One ``fit`` call's plumbing (made by :meth:`Engine.session`): ``stopping`` turns true on SIGINT;
    :meth:`add` sums each step's outputs on the device, :meth:`log` averages them (the one sync per log),
    :meth:`check` runs the health checks, ``saved_at`` is the step of the last checkpoint written."""

    def __init__(self, engine: Engine, first: int, last: int, flag: dict[str, bool]) -> None:
        self.engine, self.saved_at, self._flag = engine, first, flag
        self.bar = tqdm(total=last, initial=first, desc=engine.config.mode, disable=not engine.progress,
                        dynamic_ncols=True)
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {}  # per key: D's head-start steps report no generator losses
        self._n, self._t0 = 0, time.perf_counter()
        self._shown: dict[str, float] = {}  # what the progress bar shows beside its ETA

    @property
    def stopping(self) -> bool:
        """True once SIGINT arrived: the loop saves, then stops."""
        return self._flag["stop"]

    def add(self, out: dict[str, torch.Tensor]) -> None:
        """One step's outputs, summed where they are (no sync inside the step)."""
        for k, v in out.items():
            self._sums[k] = self._sums.get(k, 0) + v
            self._counts[k] = self._counts.get(k, 0) + 1
        self._n += 1
        self.bar.update(1)

    def unlogged(self) -> dict[str, Any]:
        """The sums, counts and seconds of the steps since the last log, as a checkpoint stores them."""
        return {"sums": dict(self._sums), "counts": dict(self._counts), "steps": self._n,
                "seconds": time.perf_counter() - self._t0}

    def resume(self, saved: dict[str, Any]) -> None:
        """Continue the sums :meth:`unlogged` saved, so the first log after a resume averages the same steps (and
        gives the same numbers) as an uninterrupted run's; ``sec_per_step`` leaves out the time between."""
        device = self.engine.device
        self._sums = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in saved["sums"].items()}
        self._counts, self._n = dict(saved["counts"]), int(saved["steps"])
        self._t0 = time.perf_counter() - float(saved["seconds"])

    def log(self, **extra: float) -> dict[str, float]:
        """The means since the last log, then ``extra`` and ``sec_per_step``; starts the next sums."""
        logged = {k: float(v) / self._counts[k] for k, v in self._sums.items()}
        elapsed = time.perf_counter() - self._t0
        logged.update(extra, sec_per_step=elapsed / self._n)
        self.show(**{k: logged[k] for k in ("loss", "d_acc") if k in logged})
        self._sums, self._counts, self._n, self._t0 = {}, {}, 0, time.perf_counter()
        return logged

    def show(self, **values: float) -> None:
        """Put the latest ``values`` (losses, D's accuracy, validation PSNR) beside the progress bar's ETA."""
        self._shown.update(values)
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in self._shown.items()}, refresh=False)

    def check(self, history: list[dict[str, float]], step: int) -> None:
        """:func:`check_health` on the last log."""
        engine = self.engine
        check_health(engine.config, history[-1], history, step, engine.out_dir / "last.pt", self.saved_at)


def check_health(config: Any, logged: dict[str, float], history: list[dict[str, float]], step: int,
                 checkpoint: Path, saved_at: int) -> None:
    """Raise :class:`TrainingDiverged` when ``logged`` holds a non-finite value, or (SRGAN, over the last
    ``collapse_window`` steps of ``history``) D's accuracy is ~100 % or stuck at chance. The message names
    ``checkpoint`` (written at step ``saved_at``) when it exists."""
    bad = [k for k, v in logged.items() if not math.isfinite(v)]
    back = (f"go back to {checkpoint} (saved at step {saved_at})" if checkpoint.is_file() else
            f"no checkpoint was written yet (the first is due at step {config.ckpt_every}): start again")
    if bad:
        raise TrainingDiverged(f"step {step}: non-finite {', '.join(bad)}; {back} and lower the learning rate")
    w = config.collapse_window
    if config.mode != "srgan" or not w:
        return
    recent = [h["d_acc"] for h in history if "d_acc" in h and h["step"] > step - w]  # not validation rows
    if step < w or len(recent) < 2:
        return
    acc = float(np.mean(recent))
    if acc > 0.999:
        raise TrainingDiverged(f"step {step}: discriminator accuracy {acc:.1%} over the last {w} steps: "
                               f"D wins every time and G gets no useful gradient; {back}")
    if abs(acc - 0.5) < 0.005 and np.std(recent) < 0.005:
        raise TrainingDiverged(f"step {step}: discriminator accuracy stuck at chance ({acc:.1%}) over the "
                               f"last {w} steps: D has stopped learning; {back}")


# -- processes, signals, random state ------------------------------------------------------------------
class _IndexRange(Sampler[int]):
    """Dataset indices ``start, start+1, ...`` for this process: global sample ``g`` of step ``s`` is
    ``(s * world + rank) * batch + b``, so each rank sees its own samples and a resumed run sees the
    same samples as an uninterrupted one."""

    def __init__(self, first_step: int, last_step: int, batch: int, rank: int, world: int) -> None:
        self.first, self.last, self.batch, self.rank, self.world = first_step, last_step, batch, rank, world

    def __iter__(self) -> Iterator[int]:
        for s in range(self.first, self.last):
            base = (s * self.world + self.rank) * self.batch
            yield from range(base, base + self.batch)

    def __len__(self) -> int:
        return (self.last - self.first) * self.batch


def _distributed() -> tuple[int, int]:
    """Join the process group when started by torchrun; returns ``(rank, world_size)``."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@contextmanager
def _stop_on_sigint() -> Iterator[dict[str, bool]]:
    """Turn SIGINT into a flag checked between steps, so the engine saves before it stops."""
    flag = {"stop": False}
    if threading_main():
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):  # noqa: ARG001
            flag["stop"] = True

        signal.signal(signal.SIGINT, handler)
        try:
            yield flag
        finally:
            signal.signal(signal.SIGINT, previous)
    else:
        yield flag


def threading_main() -> bool:
    """True in the main thread (the only one where Python can install a signal handler)."""
    return threading.current_thread() is threading.main_thread()


def rng_state() -> dict[str, Any]:
    """Python's, numpy's, torch's (and CUDA's) random states, as a checkpoint stores them."""
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    # A checkpoint loaded with map_location=<cuda device> puts these tensors on the GPU; the RNG
    # setters (and numpy) want them on the host.
    random.setstate(state["python"])
    n = state["numpy"]
    np.random.set_state((n[0], n[1].cpu().numpy().astype(np.uint32), *n[2:]))
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


# -- the check of a config's options -------------------------------------------------------------------
def check_options(config: Any) -> None:
    """Check every field of a :class:`~srgan_lib.train.TrainConfig` (type and range) at once; ``ValueError``
    names the first bad option, its value and its valid range in one line (so ``--set log_every=0`` fails
    before any work)."""
    for f in dataclasses.fields(config):
        kind, ok, valid = _RULES[f.name]
        value = getattr(config, f.name)
        right_type = (value is None and kind is type(None)) or (
            isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            right_type = True
        if not right_type or not ok(value):
            raise ValueError(f"training option {f.name}={value!r} is not valid: use {valid}")
    if config.crop % config.scale:
        raise ValueError(f"training option crop={config.crop} is not valid: use a multiple of the scale ({config.scale})")
    if config.content != "mse" and config.vgg_weights == "random" and not config.allow_random_vgg:
        raise ValueError(f"training option vgg_weights='random' with content={config.content!r} is refused: the content "
                         "loss would be a distance in an untrained VGG19, not the paper's, and the result would look "
                         "real; get the ImageNet VGG19 (vgg_weights='imagenet', downloaded by torchvision; on Colab "
                         "automatically), use content='mse', or set allow_random_vgg=True for a code check")
    if config.freeze_upsampling and not config.init_generator:
        raise ValueError("training option freeze_upsampling=True needs init_generator (trained weights whose "
                         "upsampling layers it keeps); with random weights they would stay random: give one, or "
                         "freeze_upsampling=False")


def _choice(*names: str) -> tuple[type, Callable[[Any], bool], str]:
    return str, lambda v: v in names, " or ".join(names)


def _whole(least: int, most: int | None = None) -> tuple[type, Callable[[Any], bool], str]:
    rule = f"a whole number from {least} to {most}" if most is not None else f"a whole number >= {least}"
    return int, lambda v: v >= least and (most is None or v <= most), rule


def _real(positive: bool) -> tuple[type, Callable[[Any], bool], str]:
    if positive:
        return float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0"
    return float, lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0"


_FLAG = (bool, lambda v: True, "true or false")


def _rescale_ok(v: Any) -> bool:
    """A valid ``vgg_rescale``: what :func:`~srgan_lib.losses.resolve_vgg_rescale` accepts ("paper", "auto",
    or a finite number > 0, also as text as ``--set`` gives it), but not a bool."""
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        return False
    try:
        losses.resolve_vgg_rescale(v)
    except ValueError:
        return False
    return True


#: Type, check and valid range of every :class:`~srgan_lib.train.TrainConfig` field (used by :func:`check_options`).
_RULES: dict[str, tuple[type, Callable[[Any], bool], str]] = {
    "mode": _choice("srresnet", "srgan"),
    "scale": (int, lambda v: v in (2, 4, 8), "2, 4 or 8"),
    "n_blocks": _whole(1, 256),
    "channels": _whole(1, 1024),
    "crop": (int, lambda v: v >= 8, "a whole number >= 8 (HR pixels, a multiple of the scale)"),
    "batch_size": _whole(1),
    "steps": _whole(1),
    "lr": _real(positive=True),
    "schedule": _choice("constant", "step_half", "cosine"),
    "warmup_steps": _whole(0),
    "min_lr": _real(positive=False),
    "content": _choice("mse", "vgg22", "vgg54"),
    "adversarial_weight": _real(positive=False),
    "vgg_weights": _choice("imagenet", "random"),
    "allow_random_vgg": _FLAG,
    "init_generator": (object, lambda v: v is None or (isinstance(v, (str, os.PathLike)) and str(v) != ""),
                       "none or a weights file / bundled name"),
    "seed": _whole(0, 2**32 - 1),
    "num_workers": _whole(0),
    "log_every": _whole(1),
    "val_every": _whole(1),
    "ckpt_every": _whole(1),
    "keep_every": _whole(0),
    "amp": _FLAG,
    "cpu_bf16": _FLAG,
    "channels_last": _FLAG,
    "compile": _FLAG,
    "collapse_window": _whole(0),
    "freeze_bn": _FLAG,
    "ema_decay": (float, lambda v: math.isfinite(v) and 0 <= v < 1, "0 (off) or a decay in [0, 1), such as 0.999"),
    "d_head_start": _whole(0),
    "d_shift": _whole(0, 16),
    "freeze_upsampling": _FLAG,
    "lr_d": (object, lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)
                                             and math.isfinite(v) and v > 0),
             "none (the generator's learning rate) or a finite number > 0"),
    "vgg_rescale": (object, lambda v: _rescale_ok(v), '"paper" (1/12.75), "auto" (measured) or a finite number > 0'),
}
