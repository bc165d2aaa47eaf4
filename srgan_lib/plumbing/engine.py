"""Plumbing, not part of the lesson: the training loop's production helpers.

:class:`~srgan_lib.train.Trainer` is the paper's loop (section 3.2). What a long run needs around it lives here, as
plain helpers the loop calls at named points:

- where tensors live: the device, distributed data parallel under ``torchrun`` (each process its own samples,
  :meth:`Engine.batches`), ``channels_last`` and ``torch.compile`` (:meth:`Engine.wrap`);
- mixed precision on CUDA (:meth:`Engine.autocast`): bf16 where the GPU has it natively (compute capability
  >= 8.0), otherwise fp16 with one GradScaler per network (``Engine.scalers``), the path a T4 needs (see
  :func:`~srgan_lib.plumbing.runtime.amp_dtype_for`);
- the recipe's helpers: ``freeze_bn`` (:func:`train_mode`), the VGG factor
  measured by the paper's criterion (:meth:`Engine.measure_vgg_rescale`), a cold start's warning;
- exact resume: the checkpoint (:func:`run_state`, :func:`resume`) holds the scalers, G's average, every RNG state
  and the sums not yet logged, and data loading never draws from the global RNGs, so a resumed run's weights,
  optimizers, random states and history equal an uninterrupted run's (all but ``sec_per_step``, a clock reading);
  a checkpoint of another run is refused (:func:`check_identity`);
- a run's safety (:class:`Session`): SIGINT saves before stopping, and health checks (non-finite losses, a
  discriminator stuck at 100 % or at chance) raise :class:`TrainingDiverged` naming the checkpoint to go back to,
  after :func:`export_last_good`;
- precise BN (:meth:`Engine.recalibrate_bn`).
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
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from .. import losses, vgg
from ..models import SRResNet
from . import provenance, runtime
from .checkpoint import load_checkpoint, save_weights
from .weights import checkpoint_generator_state

EXPORT_NAME = "generator.safetensors"  # the generator a run validated, exported beside its last.pt
RESCALE_BATCHES = 4  # vgg_rescale="auto": measured on the first 4 training batches (64 patches at batch 16)


class TrainingDiverged(RuntimeError):
    """Raised when a run goes wrong in a known way; the message says which checkpoint to go back to."""


class RunMismatch(ValueError):
    """A run folder's checkpoint was started with another identity (content loss, VGG19, VGG factor, data, preset)."""


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
        self.run: Session | None = None  # the fit in progress: its unlogged sums go into checkpoints
        self._resumed_sums: dict[str, Any] | None = None  # a checkpoint's, for the next session
        runtime.configure_backends(self.device)  # cudnn.benchmark on CUDA

    # -- models ---------------------------------------------------------------------------------------
    def place(self, model: nn.Module) -> nn.Module:
        """``model`` moved to the run's device, in its memory format (channels_last by default)."""
        return model.to(self.device, memory_format=self.memory_format)

    def wrap(self, model: nn.Module | None) -> nn.Module | None:
        """``model`` as the steps call it: compiled with ``compile``, in DistributedDataParallel under torchrun."""
        if model is None:
            return None
        if self.config.compile:
            model = torch.compile(model)
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        return model

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

    def autocast(self) -> Any:
        """Mixed precision on CUDA (bf16, or fp16 on a T4) and, with ``cpu_bf16``, on a CPU with AMX (bf16); a no-op
        context elsewhere or with ``amp=False``."""
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

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
        """The checkpoint's share of the engine: ``scaler_g`` (and ``scaler_d``), ``rng``, and ``log_sums``, the sums
        of the steps since the last log (so a resumed run logs the same means)."""
        state: dict[str, Any] = {f"scaler_{n}": s.state_dict() for n, s in self.scalers.items()}
        state["rng"] = rng_state()
        if self.run is not None:
            state["log_sums"] = self.run.unlogged()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved; call it last, as it sets the RNGs."""
        for n, scaler in self.scalers.items():
            scaler.load_state_dict(state[f"scaler_{n}"])
        set_rng_state(state["rng"])
        self._resumed_sums = state.get("log_sums")

    # -- around the loop ------------------------------------------------------------------------------
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


# -- the recipe's helpers (not in the paper; TrainConfig says why) -------------------------------------------------
def train_mode(model: nn.Module, mode: bool, freeze_bn: bool = False) -> None:
    """``model.train(mode)``, but with ``freeze_bn`` the batch-norm layers stay in eval mode."""
    model.train(mode)
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()


@contextmanager
def frozen(model: nn.Module) -> Iterator[None]:
    """``model``'s parameters with ``requires_grad=False`` inside the block (restored after): gradients still flow
    through it to its input, none is computed for its own weights."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


def warn_cold_start(config: Any, step: int) -> None:
    """Warn when a run starts from trained weights with a fresh Adam and no warm-up."""
    if config.init_generator and not config.warmup_steps and step == 0:  # a resumed Adam is not fresh
        warnings.warn(
            f"starting from trained weights ({config.init_generator}) with a fresh Adam and no warm-up: "
            "Adam's first steps move every weight by about the full learning rate (at 1e-4 that cost the "
            "shipped SRResNet 0.8 dB on Set5 in 10 steps); warmup_steps=100 avoids it, as the SRGAN "
            "cpu/colab presets do",
            stacklevel=3,
        )


def check_extractor(extractor: Any, config: Any) -> None:
    """A VGG19 given to a run must have the weights its config names."""
    if extractor is not None and extractor.weights != config.vgg_weights:
        raise ValueError(f"vgg_extractor has weights={extractor.weights!r}, the config says "
                         f"vgg_weights={config.vgg_weights!r}")


# -- a run's checkpoint, identity and exports ------------------------------------------------------------------------
def run_provenance(trainer: Any) -> dict[str, Any]:
    """Where ``trainer``'s generator comes from (:mod:`~srgan_lib.plumbing.provenance`): content loss, VGG19 identity
    and factor, data, init weights, steps, preset, precision, device, library version. Plain types only."""
    c, init = trainer.config, trainer.config.init_generator
    facts = {"content": c.content, "vgg_rescale_setting": str(c.vgg_rescale),
             "vgg_rescale": trainer.vgg_rescale if trainer.vgg_rescale is not None else "none (pixel MSE)",
             "init_generator": "none (random weights)" if not init else Path(init).name,
             "step": trainer.step, "precision": trainer.engine.precision,
             "device": runtime.describe_device(trainer.device), **provenance.version_facts(), **trainer.facts}
    return {k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in facts.items()}


def export_meta(trainer: Any, card: dict[str, Any]) -> dict[str, Any]:
    """The metadata of an exported generator: its config, :func:`run_provenance`, ``ema_decay`` when it is G's
    moving average, and ``card``'s facts."""
    meta = {"model": "SRResNet", **trainer.generator.config(), "step": trainer.step, **run_provenance(trainer), **card}
    if trainer.ema is not None:
        meta["ema_decay"] = trainer.config.ema_decay
    return meta


def run_state(trainer: Any) -> dict[str, Any]:
    """``trainer``'s checkpoint: config, step, networks, optimisers, schedules, history, G's moving average, the VGG
    factor in use, the provenance (plain types: loads with ``weights_only=True``) and the engine's scalers, RNGs and
    unlogged sums."""
    t = trainer
    state = {"config": dataclasses.asdict(t.config), "step": t.step, "generator": t.generator.state_dict(),
             "opt_g": t.opt_g.state_dict(), "sched_g": t.sched_g.state_dict(), "history": t.history}
    if t.discriminator is not None:
        state.update(discriminator=t.discriminator.state_dict(), opt_d=t.opt_d.state_dict(),
                     sched_d=t.sched_d.state_dict())
    if t.vgg_rescale is not None:
        state["vgg_rescale"] = t.vgg_rescale  # a measured ("auto") factor: a resume uses the same one
    if t.ema is not None:
        state["generator_ema"] = t.ema.state_dict()
    state["provenance"] = run_provenance(t)
    return {**state, **t.engine.state_dict()}


def resume(trainer: Any, path: str | Path) -> None:
    """Load what :func:`run_state` wrote to ``path`` into ``trainer``, after :func:`check_identity`; sets
    ``trainer.resumed_config`` (the options the run was started with)."""
    t = trainer
    state = load_checkpoint(path, map_location=t.device)
    saved = t.resumed_config = type(t.config).from_dict(state["config"])
    for key in type(t.config).ARCHITECTURE:
        if getattr(saved, key) != getattr(t.config, key):
            raise RunMismatch(f"{path}: checkpoint has {key}={getattr(saved, key)!r}, "
                              f"this run has {getattr(t.config, key)!r}")
    check_identity(t, state, path)
    t.generator.load_state_dict(state["generator"])
    t.opt_g.load_state_dict(state["opt_g"])
    t.sched_g.load_state_dict(state["sched_g"])
    if t.discriminator is not None:
        t.discriminator.load_state_dict(state["discriminator"])
        t.opt_d.load_state_dict(state["opt_d"])
        t.sched_d.load_state_dict(state["sched_d"])
    if "vgg_rescale" in state and str(t.config.vgg_rescale).strip().lower() == "auto":
        t.vgg_rescale = float(state["vgg_rescale"])
    if t.ema is not None and "generator_ema" in state:
        t.ema.load_state_dict(state["generator_ema"])
    elif t.ema is not None:  # the run was started without an average: begin one from the resumed weights
        warnings.warn(f"{path}: the checkpoint holds no moving average of G (it was saved with ema_decay=0); "
                      "the average starts from the resumed generator", stacklevel=4)
    t.step, t.history = int(state["step"]), list(state["history"])
    t.engine.load_state_dict(state)  # last: it restores the RNG states


def check_identity(trainer: Any, state: dict[str, Any], path: str | Path) -> None:
    """Refuse (:class:`RunMismatch`) to resume checkpoint ``state`` (read from ``path``) when it was started with
    another content loss, VGG19 (weights or their hash), VGG factor setting, training data or preset: the run would
    mix two experiments. Fields an older checkpoint lacks are not compared."""
    saved_config = state["config"]
    saved = {"content": saved_config.get("content", "mse"), "vgg_rescale_setting": str(
        saved_config.get("vgg_rescale", "paper")), **state.get("provenance", {})}
    if saved["content"] != "mse":  # the VGG19 matters only to a VGG content loss
        saved.setdefault("vgg_weights", saved_config.get("vgg_weights", "imagenet"))
    else:
        saved["vgg_rescale_setting"] = provenance.UNKNOWN  # unused by pixel MSE
    now = run_provenance(trainer)
    if trainer.config.content == "mse":
        now["vgg_rescale_setting"] = provenance.UNKNOWN
    diff = provenance.mismatches(saved, now)
    if diff:
        raise RunMismatch(f"{path}: this checkpoint belongs to another run ({'; '.join(diff)}); resuming would mix "
                          "the two. Start a fresh run (another folder, or remove this last.pt), or use the "
                          "settings it was started with")


def export_last_good(trainer: Any, err: TrainingDiverged) -> TrainingDiverged:
    """After a health-check stop: export the last good generator (``trainer``'s validated one when its weights are
    finite, else the one in ``last.pt``) to ``out_dir`` (:data:`EXPORT_NAME`), with :func:`export_meta`'s metadata,
    so that the run keeps what it trained; the returned error says where."""
    t = trainer
    if t.engine.rank != 0:
        return err
    g = t.eval_generator
    finite = all(bool(torch.isfinite(v).all()) for v in g.state_dict().values() if v.is_floating_point())
    last = t.out_dir / "last.pt"
    if not finite and last.is_file():
        tensors, step = checkpoint_generator_state(last)
        g = SRResNet(t.config.scale, t.config.n_blocks, t.config.channels)
        g.load_state_dict(tensors)
    elif not finite:
        return TrainingDiverged(f"{err}; no generator was exported (no finite weights and no checkpoint)")
    else:
        step = t.step
    meta = {**export_meta(t, {"stopped": f"health check at step {t.step}"}), "step": step}  # both are G's validated
    path = save_weights(g, t.out_dir / EXPORT_NAME, meta)
    return TrainingDiverged(f"{err}; the last good generator (step {step}) was exported to {path}")
