"""One training engine for SRResNet (pixel MSE) and SRGAN (perceptual loss), paper section 3.2.

- SRResNet: Adam (beta1 = 0.9), pixel MSE between G(LR) and HR, both in [-1, 1]. With ``content="vgg22"``
  or ``"vgg54"`` the same mode trains on the VGG content loss alone, no discriminator (Table 1's
  SRResNet-VGG22 row; VGG54 likewise), typically fine-tuning from MSE weights (``init_generator``).
- SRGAN: the generator starts from SRResNet weights; each iteration makes one discriminator update and
  one generator update (k = 1) with l_SR = content + 1e-3 * adversarial; the paper's schedule is 1e-4,
  then 1e-5 for the second half (``schedule="step_half"``). Content is ``mse``, ``vgg22`` or ``vgg54``
  (Table 1's SRGAN-MSE / -VGG22 / -VGG54).

The engine also does what a long run needs: mixed precision on CUDA (bf16 where the GPU has it natively,
compute capability >= 8.0, otherwise fp16 with one GradScaler per network; see
:func:`~srgan_lib.runtime.amp_dtype_for`), channels_last, optional ``torch.compile``, distributed data
parallel under ``torchrun``, atomic checkpoints with exact resume, a SIGINT handler that saves before
stopping, and GAN health checks (non-finite losses, a discriminator stuck at 100 % or at chance).
Notebooks, the command line and the tests all train through :class:`Trainer`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import signal
import time
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from .checkpoint import load_checkpoint, save_checkpoint, save_weights
from .images import unit_to_model
from .models import Discriminator, SRResNet

if TYPE_CHECKING:
    from .vgg import VGGFeatures

ADAM_BETAS = (0.9, 0.999)  # section 3.2: Adam with beta1 = 0.9
RESCALE_BATCHES = 4  # vgg_rescale="auto": measured on the first 4 training batches (64 patches at batch 16)


@dataclass
class TrainConfig:
    """Everything that defines a run; stored in every checkpoint."""

    mode: str = "srresnet"  # "srresnet" (pixel MSE) or "srgan"
    scale: int = 4
    n_blocks: int = 16
    channels: int = 64
    crop: int = 96  # HR crop side (section 3.2)
    batch_size: int = 16  # per process
    steps: int = 1000
    lr: float = 1e-4
    lr_d: float | None = None  # SRGAN: the discriminator's learning rate (None: lr, as in the paper)
    schedule: str = "constant"  # "constant", "step_half" (x0.1 at half: SRGAN) or "cosine"
    warmup_steps: int = 0
    min_lr: float = 0.0  # floor of the cosine schedule
    content: str = "mse"  # content loss, both modes: "mse", "vgg22", "vgg54" (srresnet + vgg: Table 1's SRResNet-VGG)
    adversarial_weight: float = 1e-3  # section 2.2
    vgg_weights: str = "imagenet"  # or "random" (quick runs only; loudly labelled)
    vgg_rescale: float | str = "paper"  # VGG feature factor: "paper" (1/12.75, section 3.2), a number, or "auto":
    # measured at start by the paper's criterion for the VGG19 in use (vgg.vgg_rescale_for), kept in checkpoints
    init_generator: str | None = None  # generator weights (.safetensors or bundled name) to start from
    seed: int = 0
    num_workers: int = 0
    log_every: int = 50
    val_every: int = 500
    ckpt_every: int = 500
    keep_every: int = 0  # also keep step_XXXXXXX.pt snapshots every N steps (0: never)
    amp: bool = True  # CUDA only
    channels_last: bool = True  # faster on CUDA and on x86 CPUs (see benchmarks/train_speed.py)
    compile: bool = False
    collapse_window: int = 200  # SRGAN: steps over which D accuracy is judged (0: off)
    freeze_bn: bool = False  # keep G's batch norm in eval mode (running statistics used, not updated): not in
    # the paper; for short fine-tuning runs on small batches, whose statistics would overwrite trained ones
    ema_decay: float = 0.0  # > 0: keep an exponential moving average of G's weights (and BN statistics) with this
    # decay after every G step; validation, samples and export then use the average. Not in the paper (BasicSR
    # and ESRGAN-era recipes use 0.999): it smooths the step-to-step jitter that adversarial gradients add to G
    d_head_start: int = 0  # SRGAN: the first N steps train D only (G and its schedule wait); not in the paper
    d_shift: int = 0  # SRGAN: D sees real and generated crops cut at one random offset of 0..d_shift pixels per step
    # (not in the paper): D's stride-2 convolutions give its input gradient a fixed period-2/4/8 pattern that G's x4
    # pixel shuffle can copy as a grid; a random phase between the two grids averages that pattern out
    freeze_upsampling: bool = False  # keep G's sub-pixel upsampling blocks and output conv as initialised; only the
    # LR trunk learns (not in the paper): a fine-tuning run then cannot give the 16 pixel-shuffle phases of a 4x4
    # cell different offsets, the periodic grid a short adversarial run otherwise prints

    def __post_init__(self) -> None:
        self.validate()
        if isinstance(self.init_generator, os.PathLike):  # stored as text: checkpoints load with weights_only=True
            self.init_generator = os.fspath(self.init_generator)

    def validate(self) -> None:
        """Check every field (type and range) at once; ``ValueError`` names the first bad option, its
        value and its valid range in one line (so ``--set log_every=0`` fails before any work)."""
        for f in dataclasses.fields(self):
            kind, ok, valid = _RULES[f.name]
            value = getattr(self, f.name)
            right_type = (value is None and kind is type(None)) or (
                isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool))
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                right_type = True
            if not right_type or not ok(value):
                raise ValueError(f"training option {f.name}={value!r} is not valid: use {valid}")
        if self.crop % self.scale:
            raise ValueError(f"training option crop={self.crop} is not valid: use a multiple of the scale ({self.scale})")
        if self.freeze_upsampling and not self.init_generator:
            raise ValueError("training option freeze_upsampling=True needs init_generator (trained weights whose "
                             "upsampling layers it keeps); with random weights they would stay random: give one, or "
                             "freeze_upsampling=False")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown training options: {sorted(unknown)}")
        return cls(**d)


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
    from .losses import resolve_vgg_rescale

    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        return False
    try:
        resolve_vgg_rescale(v)
    except ValueError:
        return False
    return True

#: Type, check and valid range of every :class:`TrainConfig` field (used by :meth:`TrainConfig.validate`).
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
    "init_generator": (object, lambda v: v is None or (isinstance(v, (str, os.PathLike)) and str(v) != ""),
                       "none or a weights file / bundled name"),
    "seed": _whole(0, 2**32 - 1),
    "num_workers": _whole(0),
    "log_every": _whole(1),
    "val_every": _whole(1),
    "ckpt_every": _whole(1),
    "keep_every": _whole(0),
    "amp": _FLAG,
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


# Presets a reader picks by name. Times are estimates except where measured (see the model cards).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "srresnet": {
        # CI: seconds on a CPU, every code path (validation, checkpoint, samples) still runs.
        "quick": dict(steps=6, batch_size=4, crop=48, lr=1e-4, log_every=2, val_every=3, ckpt_every=3),
        # The recipe of the shipped weights: 64 x 64 crops and a cosine schedule converge faster per
        # CPU-second than the paper's constant 1e-4 (a stated deviation; the architecture is the paper's).
        "cpu": dict(steps=5000, batch_size=16, crop=64, lr=5e-4, schedule="cosine", warmup_steps=200,
                    min_lr=1e-6, log_every=50, val_every=500, ckpt_every=250),
        # DIV2K on a Colab T4 (fp16 autocast): an estimated 8-16 min (122 GFLOP per step at the 5-10 TFLOP/s a
        # T4 sustains; notebook 05 and benchmarks/data_speed.txt say how the estimate was made).
        "colab": dict(steps=40_000, batch_size=16, crop=96, lr=2e-4, schedule="cosine", warmup_steps=500,
                      min_lr=1e-6, num_workers=2, log_every=100, val_every=2000, ckpt_every=1000),
        # Section 3.2: 10^6 iterations at 1e-4.
        "paper": dict(steps=1_000_000, batch_size=16, crop=96, lr=1e-4, num_workers=4, log_every=500,
                      val_every=10_000, ckpt_every=5000),
    },
    "srgan": {
        "quick": dict(mode="srgan", steps=6, batch_size=2, crop=48, lr=1e-4, schedule="step_half",
                      warmup_steps=2, vgg_weights="random", content="vgg54", log_every=2, val_every=3, ckpt_every=3,
                      collapse_window=0),
        # cpu and colab warm the learning rate up (not in the paper): G starts from trained SRResNet weights,
        # and a fresh Adam's first steps move every weight by about the full learning rate whatever its
        # gradient. Measured from the shipped SRResNet (Set5, batch 16 of 96x96, 10 steps at 1e-4): -0.78 dB
        # without a warm-up, -0.10 dB with one; the paper's 10^5 steps recover from that dip, short runs don't.
        # cpu is the recipe of the shipped srgan_mse_x4 (its card's table gives each choice's measured effect,
        # benchmarks/gan_recipe.txt the runs): G's BN statistics frozen (they belong to 96x96 crops), G's
        # upsampling frozen and D shown a random window (the period-4 grid), an EMA of G validated and exported,
        # D at a tenth of the paper's learning rate, and 4x the adversarial weight (what draws detail in a short
        # run; how far G drifts from the MSE solution follows D's progress times this weight, so 4x is what 2,000
        # steps can afford on Set5), with G's learning rate low (G tracks D at any rate from 5e-6 to 2e-5).
        "cpu": dict(mode="srgan", steps=2000, batch_size=8, crop=64, lr=5e-6, lr_d=1e-5, schedule="step_half",
                    warmup_steps=100, content="mse", adversarial_weight=4e-3, init_generator="srresnet_x4",
                    freeze_bn=True, freeze_upsampling=True,
                    d_shift=3, ema_decay=0.995, log_every=50, val_every=200, ckpt_every=250),
        # colab's VGG rescale is measured (a stated deviation): 1/12.75 was chosen to put the Caffe VGG19's
        # loss "on a scale comparable to the MSE loss" (section 3.2); torchvision's VGG19 takes ~58x smaller
        # input, so with 1/12.75 its VGG54 loss is far below the MSE and D's 1e-3 term drives G almost
        # alone. "auto" applies the paper's criterion to the VGG19 actually loaded (vgg.measure_vgg_rescale).
        # colab also takes the cpu recipe's grid remedies (measured with SRGAN-MSE on the CPU; not yet on a GPU
        # with VGG54): G's upsampling frozen, D shown a random window, an EMA of G (0.999 over 20,000 steps).
        "colab": dict(mode="srgan", steps=20_000, batch_size=16, crop=96, lr=1e-4, schedule="step_half",
                      warmup_steps=500, content="vgg54", vgg_rescale="auto", init_generator="srresnet_x4",
                      freeze_upsampling=True, d_shift=3,
                      ema_decay=0.999, num_workers=2, log_every=100, val_every=1000, ckpt_every=500),
        # Section 3.2: 10^5 iterations at 1e-4, then 10^5 at 1e-5.
        "paper": dict(mode="srgan", steps=200_000, batch_size=16, crop=96, lr=1e-4, schedule="step_half",
                      content="vgg54", num_workers=4, log_every=500, val_every=10_000, ckpt_every=5000),
    },
}


def preset(mode: str, name: str, **overrides: Any) -> TrainConfig:
    """A :class:`TrainConfig` from a named preset (``quick``, ``cpu``, ``colab``, ``paper``)."""
    if mode not in PRESETS or name not in PRESETS[mode]:
        valid = {m: sorted(p) for m, p in PRESETS.items()}
        raise ValueError(f"unknown preset {mode}/{name}; valid presets: {valid}")
    return TrainConfig.from_dict({"mode": mode, **PRESETS[mode][name], **overrides})


class TrainingDiverged(RuntimeError):
    """Raised when a run goes wrong in a known way; the message says which checkpoint to go back to."""


def lr_lambda(config: TrainConfig) -> Callable[[int], float]:
    """Multiplier of the base learning rate at each step, for ``torch.optim.lr_scheduler.LambdaLR``."""

    def f(step: int) -> float:
        if config.warmup_steps and step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        if config.schedule == "constant":
            return 1.0
        if config.schedule == "step_half":  # section 3.2: 1e-4, then 1e-5 for the second half
            return 1.0 if step < config.steps // 2 else 0.1
        if config.schedule == "cosine":
            span = max(1, config.steps - config.warmup_steps)
            t = min(1.0, (step - config.warmup_steps) / span)
            floor = config.min_lr / config.lr
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))
        raise ValueError(f"unknown schedule {config.schedule!r}: use constant, step_half or cosine")

    return f


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
    import threading

    return threading.current_thread() is threading.main_thread()


def _rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    # A checkpoint loaded with map_location=<cuda device> puts these tensors on the GPU; the RNG
    # setters (and numpy) want them on the host.
    random.setstate(state["python"])
    n = state["numpy"]
    np.random.set_state((n[0], n[1].cpu().numpy().astype(np.uint32), *n[2:]))
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


class Trainer:
    """Train SRResNet or SRGAN on a :class:`~srgan_lib.data.PatchDataset`.

    ``val_pairs`` is a list of ``(lr, hr)`` tensors ``(3, h, w)`` / ``(3, H, W)`` in [0, 1] (for example
    Set5 made with the MATLAB-era resize); validation reports mean PSNR/SSIM ("standard" flavour).
    ``out_dir`` holds ``last.pt`` (resumed automatically when present), ``samples/`` and ``history``.
    ``vgg_extractor``: an already built :class:`~srgan_lib.vgg.VGGFeatures` for the VGG content loss
    (saves building VGG19 twice); its layer and weights must match ``config.content``/``vgg_weights``.
    """

    def __init__(
        self,
        config: TrainConfig,
        train_set: Dataset,
        out_dir: str | Path,
        val_pairs: Sequence[tuple[torch.Tensor, torch.Tensor]] = (),
        device: str | torch.device | None = None,
        resume: bool = True,
        progress: bool = True,
        vgg_extractor: VGGFeatures | None = None,
    ) -> None:
        from .runtime import amp_dtype_for, describe_precision, pick_device, seed_everything

        self.config, self.train_set, self.val_pairs = config, train_set, list(val_pairs)
        self._vgg_extractor = vgg_extractor  # an existing vgg.VGGFeatures to reuse (optional)
        self.out_dir = Path(out_dir)
        self.rank, self.world = _distributed()
        self.device = pick_device(None if device is None else str(device))
        if self.world > 1 and self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(self.device)
        self.progress = progress and self.rank == 0
        seed_everything(config.seed)
        self.amp_dtype = amp_dtype_for(self.device, enabled=config.amp)  # bf16 only where native (sm_80+)
        self.precision = describe_precision(self.device, self.amp_dtype)  # one line, printed at start
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format

        self.generator = SRResNet(config.scale, config.n_blocks, config.channels)
        if config.init_generator:
            from .weights import load_generator_weights

            load_generator_weights(self.generator, config.init_generator)
        self.generator.to(self.device, memory_format=self.memory_format)
        # ema_decay > 0: torch's own averaged copy of G (weights and BN statistics); the first update copies G
        self.ema = None if not config.ema_decay else torch.optim.swa_utils.AveragedModel(
            self.generator, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(config.ema_decay),
            use_buffers=True)
        if config.freeze_upsampling:
            for p in [*self.generator.upsample.parameters(), *self.generator.tail.parameters()]:
                p.requires_grad_(False)
        trained = [p for p in self.generator.parameters() if p.requires_grad]
        self.opt_g = torch.optim.Adam(trained, lr=config.lr, betas=ADAM_BETAS)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, lr_lambda(config))
        fp16 = self.amp_dtype == torch.float16
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=fp16)
        self.discriminator = None
        self.perceptual = None
        self.vgg_rescale: float | None = None  # the VGG feature factor in use (VGG content losses only)
        self.loss_label = "pixel MSE on [-1, 1] (section 2.2.1)"
        if config.mode == "srgan":
            self._build_gan(fp16)
        elif config.mode != "srresnet":
            raise ValueError(f"unknown mode {config.mode!r}: use 'srresnet' or 'srgan'")
        elif config.content != "mse":
            self._build_perceptual(adversarial_weight=0.0)  # content only: SRResNet-VGG22/VGG54 (Table 1)

        self.step = 0
        self.resumed_config: TrainConfig | None = None  # set by load(): the resumed run's own options
        self.history: list[dict[str, float]] = []
        self.samples: list[tuple[int, torch.Tensor]] = []
        if resume and (self.out_dir / "last.pt").is_file():
            self.load(self.out_dir / "last.pt")
        if self.perceptual is not None and self.perceptual.content_loss is not None:
            self._settle_vgg_rescale()  # "auto": measured now, unless the checkpoint holds the run's number
        if config.init_generator and not config.warmup_steps and self.step == 0:  # a resumed Adam is not fresh
            warnings.warn(
                f"starting from trained weights ({config.init_generator}) with a fresh Adam and no warm-up: "
                "Adam's first steps move every weight by about the full learning rate (at 1e-4 that cost the "
                "shipped SRResNet 0.8 dB on Set5 in 10 steps); warmup_steps=100 avoids it, as the SRGAN "
                "cpu/colab presets do",
                stacklevel=2,
            )
        self._g = self._wrap(self.generator)
        self._d = self._wrap(self.discriminator) if self.discriminator is not None else None

    @property
    def eval_generator(self) -> nn.Module:
        """The generator that is validated, sampled and exported: G's moving average with ``ema_decay``, else G."""
        return self.generator if self.ema is None else self.ema.module

    # -- construction -------------------------------------------------------------------------------
    def _build_gan(self, fp16: bool) -> None:
        c = self.config
        self.discriminator = Discriminator().to(self.device, memory_format=self.memory_format)
        lr_d = c.lr if c.lr_d is None else float(c.lr_d)  # same multiplier schedule as G (warm-up, step_half)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=lr_d, betas=ADAM_BETAS)
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, lr_lambda(c))
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=fp16)  # one scaler per network
        # l_SR = content + 1e-3 * adversarial (+ 2e-8 * TV with VGG22), equation (3)
        self._build_perceptual(self.config.adversarial_weight)

    def _build_perceptual(self, adversarial_weight: float) -> None:
        from .losses import VGG_RESCALE, PerceptualLoss, resolve_vgg_rescale

        c = self.config
        if c.content not in ("mse", "vgg22", "vgg54"):
            raise ValueError(f"unknown content loss {c.content!r}: use mse, vgg22 or vgg54")
        vgg = self._vgg_extractor
        if vgg is not None and vgg.weights != c.vgg_weights:
            raise ValueError(f"vgg_extractor has weights={vgg.weights!r}, the config says vgg_weights={c.vgg_weights!r}")
        rescale = resolve_vgg_rescale(c.vgg_rescale)  # None: "auto", settled once resume is known
        self.perceptual = PerceptualLoss(c.content, adversarial_weight, vgg_weights=c.vgg_weights,
                                         extractor=self._vgg_extractor,
                                         vgg_rescale=rescale or VGG_RESCALE).to(self.device)
        self.loss_label = self.perceptual.label  # says "RANDOM weights" whenever VGG is not pretrained

    def _settle_vgg_rescale(self) -> None:
        """``vgg_rescale="auto"``: measure the factor on the first training batches with the initial
        generator (section 3.2's criterion; :func:`~srgan_lib.vgg.vgg_rescale_for`), print it, and use it."""
        from .losses import VGG_RESCALE, resolve_vgg_rescale
        from .vgg import vgg_rescale_for

        if self.vgg_rescale is None:  # not resumed from a checkpoint that holds the measured factor
            self.vgg_rescale = resolve_vgg_rescale(self.config.vgg_rescale)
        if self.vgg_rescale is None:
            vgg = self.perceptual.content_loss.vgg
            value = vgg_rescale_for(vgg, self.generator, self._batches(0, RESCALE_BATCHES))
            if self.world > 1:  # every process measured its own batches: all use their mean
                t = torch.tensor(value, dtype=torch.float64, device=self.device)
                dist.all_reduce(t)
                value = float(t) / self.world
            self.vgg_rescale = value
            if self.rank == 0:
                init = self.config.init_generator
                start = Path(init).name if init else "an UNTRAINED generator (the criterion assumes a trained SRResNet)"
                print(f"VGG rescale (auto): {value:.4g}, measured on {RESCALE_BATCHES} batches from {start}; "
                      f"the paper's 1/12.75 = {VGG_RESCALE:.4g} | {vgg.label}", flush=True)
        self.perceptual.content_loss.rescale = self.vgg_rescale
        self.loss_label = self.perceptual.label

    def _wrap(self, model: nn.Module) -> nn.Module:
        if self.config.compile:
            model = torch.compile(model)
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        return model

    def _autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    # -- checkpoints --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = {
            "config": dataclasses.asdict(self.config),
            "step": self.step,
            "generator": self.generator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "sched_g": self.sched_g.state_dict(),
            "scaler_g": self.scaler_g.state_dict(),
            "history": self.history,
            "rng": _rng_state(),
        }
        if self.discriminator is not None:
            state.update(discriminator=self.discriminator.state_dict(), opt_d=self.opt_d.state_dict(),
                         sched_d=self.sched_d.state_dict(), scaler_d=self.scaler_d.state_dict())
        if self.ema is not None:
            state["generator_ema"] = self.ema.state_dict()
        if self.vgg_rescale is not None:
            state["vgg_rescale"] = self.vgg_rescale  # a measured ("auto") factor: a resume uses the same one
        return state

    def save(self, path: str | Path | None = None) -> Path | None:
        """Write a checkpoint atomically (rank 0 only); default ``out_dir/last.pt``."""
        if self.rank != 0:
            return None
        return save_checkpoint(self.state_dict(), path or self.out_dir / "last.pt")

    def load(self, path: str | Path) -> None:
        """Resume from a checkpoint written by :meth:`save`."""
        state = load_checkpoint(path, map_location=self.device)
        saved = TrainConfig.from_dict(state["config"])
        self.resumed_config = saved  # the options the run was started with (callers may compare them)
        for key in ("mode", "scale", "n_blocks", "channels"):
            if getattr(saved, key) != getattr(self.config, key):
                raise ValueError(f"{path}: checkpoint has {key}={getattr(saved, key)!r}, "
                                 f"this run has {getattr(self.config, key)!r}")
        self.generator.load_state_dict(state["generator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.scaler_g.load_state_dict(state["scaler_g"])
        if self.ema is not None:
            if "generator_ema" in state:
                self.ema.load_state_dict(state["generator_ema"])
            else:  # the run was started without an average: begin one from the resumed weights
                warnings.warn(f"{path}: the checkpoint holds no moving average of G (it was saved with ema_decay=0); "
                              "the average starts from the resumed generator", stacklevel=2)
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.opt_d.load_state_dict(state["opt_d"])
            self.sched_d.load_state_dict(state["sched_d"])
            self.scaler_d.load_state_dict(state["scaler_d"])
        if "vgg_rescale" in state and str(self.config.vgg_rescale).strip().lower() == "auto":
            self.vgg_rescale = float(state["vgg_rescale"])
        self.step = int(state["step"])
        self.history = list(state["history"])
        _set_rng_state(state["rng"])

    def export_generator(self, path: str | Path, **card: Any) -> Path:
        """Save the generator (its moving average with ``ema_decay``) as safetensors, with its config and
        ``card`` facts in the metadata."""
        meta = {"model": "SRResNet", **self.generator.config(), "step": self.step, **card}
        if self.ema is not None:
            meta["ema_decay"] = self.config.ema_decay
        return save_weights(self.eval_generator, path, meta)

    # -- the steps ----------------------------------------------------------------------------------
    def _batches(self, first: int, last: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        c = self.config
        sampler = _IndexRange(first, last, c.batch_size, self.rank, self.world)
        loader = DataLoader(self.train_set, batch_size=c.batch_size, sampler=sampler,
                            num_workers=c.num_workers, pin_memory=self.device.type == "cuda",
                            persistent_workers=False, drop_last=False)
        for lr, hr in loader:
            lr = lr.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)
            hr = unit_to_model(hr.to(self.device, non_blocking=True))  # [0, 1] -> [-1, 1]
            yield lr, hr.contiguous(memory_format=self.memory_format)

    def _srresnet_step(self, lr: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        with self._autocast():
            sr = self._g(lr)  # (N, 3, 4h, 4w)
            if self.perceptual is not None:  # SRResNet-VGG: l_X = VGG content loss (+ TV for VGG22), no l_Gen
                loss = self.perceptual(sr, hr).total.float()
        if self.perceptual is None:
            loss = F.mse_loss(sr.float(), hr.float())  # section 2.2.1, pixel-wise MSE on [-1, 1]
        self._update_generator(loss)
        return {"loss": loss.detach()}

    def _update_generator(self, loss: torch.Tensor) -> None:
        """One Adam step of G on ``loss`` (through its GradScaler), its schedule, and its moving average."""
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        self.sched_g.step()
        if self.ema is not None:
            self.ema.update_parameters(self.generator)

    def _srgan_step(self, lr: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        from .losses import discriminator_loss

        # Discriminator update: real HR -> 1, G(LR) -> 0 (section 2.2.2). G's output is detached. One pass
        # over both kinds, so D's batch norm normalises them with shared statistics, as its running statistics
        # will (measured against one pass per kind in benchmarks/d_passes.txt: there G drifted below bicubic).
        n, s = hr.shape[0], self.config.d_shift
        if s:  # one random offset per step, a function of (seed, step): the same after a resume
            dy, dx = (int(v) for v in np.random.default_rng([self.config.seed, self.step]).integers(0, s + 1, 2))
            window = (slice(None), slice(None), slice(dy, hr.shape[2] - s + dy), slice(dx, hr.shape[3] - s + dx))
        else:
            window = (slice(None),)
        with self._autocast():
            sr = self._g(lr)  # (N, 3, 4h, 4w)
            real_logits, fake_logits = self._d(torch.cat([hr, sr.detach()])[window]).split(n)  # (N,), (N,)
        d_loss = discriminator_loss(real_logits.float(), fake_logits.float())
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(d_loss).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        self.sched_d.step()
        d_acc = 0.5 * ((real_logits.detach() > 0).float().mean() + (fake_logits.detach() < 0).float().mean())
        d_stats = {"d_loss": d_loss.detach(), "d_acc": d_acc}
        if self.step < self.config.d_head_start:  # D's head start: G and its schedule wait
            return d_stats
        # Generator update: l_SR = content + 1e-3 * (-log D(G(LR))), with a fresh pass through the
        # just-updated D (no graph is reused across the D step, so no in-place autograd error).
        with self._autocast():
            gen_logits = self._d(torch.cat([hr, sr])[window])[n:]  # (N,): the same mixed batch, gradient into G
            parts = self.perceptual(sr, hr, gen_logits.float())  # VGG runs in mixed precision too
        g_loss, content, adversarial = parts.total.float(), parts.content.float(), parts.adversarial.float()
        self._update_generator(g_loss)
        return {"loss": g_loss.detach(), "content": content.detach(), "adversarial": adversarial.detach(), **d_stats}

    # -- batch-norm statistics ------------------------------------------------------------------------
    @torch.no_grad()
    def recalibrate_bn(self, batches: int = 100) -> None:
        """Recompute the generator's BN running statistics with the final weights ("precise BN").

        During training the running averages mix statistics of many past weight states (momentum 0.1);
        with a large learning rate they lag the weights, and at test time (section 3.2: statistics frozen)
        that shows as a colour/brightness offset. Averaging the batch statistics of ``batches`` fresh
        training batches with the weights fixed removes the lag. Weights are not changed.

        With ``ema_decay`` the moving average's statistics are recomputed (its weights are the exported ones).
        With ``freeze_bn`` the statistics were never updated by the run (they are the trained ones the run
        started from, and the crops of a short run need not match them): nothing is recomputed.
        """
        if self.config.freeze_bn:
            return
        g = self.eval_generator  # with ema_decay: the averaged weights, which are the ones exported
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
        for lr, _ in self._batches(start, start + batches):
            with self._autocast():
                g(lr)
        for m, (momentum, _) in zip(bns, saved):
            m.momentum = momentum
        g.train(was_training)

    def _train_mode(self, g: nn.Module, mode: bool) -> None:
        """``g.train(mode)``, but with ``freeze_bn`` the batch-norm layers stay in eval mode."""
        g.train(mode)
        if self.config.freeze_bn:
            for m in g.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()

    # -- validation ---------------------------------------------------------------------------------
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean PSNR/SSIM ("standard" flavour, Y channel, crop = scale) over ``val_pairs``."""
        from .images import model_to_unit
        from .metrics import psnr, ssim

        if not self.val_pairs:
            return {}
        g = self.eval_generator
        was_training = g.training
        g.eval()  # BN uses its running statistics at test time (section 3.2)
        ps, ss = [], []
        for lr, hr in self.val_pairs:
            with self._autocast():
                sr = g(lr[None].to(self.device).contiguous(memory_format=self.memory_format))
            sr = model_to_unit(sr.float())[0].cpu()  # (3, H, W) in [0, 1]
            sr = (sr * 255).round() / 255  # evaluate the image as it would be saved (uint8)
            ps.append(float(psnr(sr, hr, crop_border=self.config.scale)))
            ss.append(float(ssim(sr, hr, crop_border=self.config.scale)))
            if not self.samples or self.samples[-1][0] != self.step:
                self.samples.append((self.step, sr))
        self._train_mode(g, was_training)
        return {"val_psnr": float(np.mean(ps)), "val_ssim": float(np.mean(ss))}

    def _check_health(self, logged: dict[str, float]) -> None:
        bad = [k for k, v in logged.items() if not math.isfinite(v)]
        last = self.out_dir / "last.pt"
        back = (f"go back to {last} (saved at step {self._last_saved})" if last.is_file() else
                f"no checkpoint was written yet (the first is due at step {self.config.ckpt_every}): start again")
        if bad:
            raise TrainingDiverged(f"step {self.step}: non-finite {', '.join(bad)}; {back} and lower the learning rate")
        w = self.config.collapse_window
        if self.config.mode != "srgan" or not w:
            return
        recent = [h["d_acc"] for h in self.history if "d_acc" in h and h["step"] > self.step - w]  # not val rows
        if self.step < w or len(recent) < 2:
            return
        acc = float(np.mean(recent))
        if acc > 0.999:
            raise TrainingDiverged(f"step {self.step}: discriminator accuracy {acc:.1%} over the last {w} steps: "
                                   f"D wins every time and G gets no useful gradient; {back}")
        if abs(acc - 0.5) < 0.005 and np.std(recent) < 0.005:
            raise TrainingDiverged(f"step {self.step}: discriminator accuracy stuck at chance ({acc:.1%}) over the "
                                   f"last {w} steps: D has stopped learning; {back}")

    # -- the loop -----------------------------------------------------------------------------------
    def fit(self, steps: int | None = None, callback: Callable[["Trainer", dict], None] | None = None) -> list[dict]:
        """Train up to ``steps`` (default: the config's) and return the history (one dict per log)."""
        from tqdm.auto import tqdm

        c = self.config
        last = min(steps or c.steps, c.steps)
        self._last_saved = self.step
        self._train_mode(self._g, True)
        if self._d is not None:
            self._d.train()
        step_fn = self._srgan_step if c.mode == "srgan" else self._srresnet_step
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}  # per key: D's head-start steps report no generator losses
        n_in_sum, t0 = 0, time.perf_counter()
        bar = tqdm(total=last, initial=self.step, desc=c.mode, disable=not self.progress, dynamic_ncols=True)
        with _stop_on_sigint() as flag:
            for lr, hr in self._batches(self.step, last):
                out = step_fn(lr, hr)
                for k, v in out.items():
                    sums[k] = sums.get(k, 0) + v  # stays on the device: no sync inside the step
                    counts[k] = counts.get(k, 0) + 1
                n_in_sum += 1
                self.step += 1
                bar.update(1)
                end = self.step == last
                if self.step % c.log_every == 0 or end:
                    logged = {k: float(v) / counts[k] for k, v in sums.items()}  # the one sync per log
                    elapsed = time.perf_counter() - t0
                    logged.update(step=self.step, lr=self.opt_g.param_groups[0]["lr"],
                                  sec_per_step=elapsed / n_in_sum)
                    self.history.append(logged)
                    bar.set_postfix(loss=f"{logged.get('loss', float('nan')):.4f}")
                    sums, counts, n_in_sum, t0 = {}, {}, 0, time.perf_counter()
                    self._check_health(logged)
                if (self.step % c.val_every == 0 or end) and self.rank == 0 and self.val_pairs:
                    val = self.validate()
                    val["step"] = self.step
                    self.history.append(val)
                    if callback:
                        callback(self, val)
                if self.step % c.ckpt_every == 0 or end or flag["stop"]:
                    self.save()
                    self._last_saved = self.step
                if c.keep_every and self.step % c.keep_every == 0 and self.rank == 0:
                    self.save(self.out_dir / f"step_{self.step:07d}.pt")
                if flag["stop"]:
                    bar.close()
                    raise KeyboardInterrupt(f"stopped at step {self.step}; resume from {self.out_dir / 'last.pt'}")
        bar.close()
        return self.history
