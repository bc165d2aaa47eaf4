"""What a training run is: :class:`TrainConfig` (every setting, its valid range beside it) and the named recipes
(``quick``, ``cpu``, ``colab``, ``paper``) that :func:`preset` turns into one, section 3.2.

The settings come in three blocks: the paper's (section 3.2, Figure 4), the recipe's deviations from it (each says
why), and the run's options (how and where it runs, not what is learned). ``paper`` is section 3.2's settings; the
other presets shrink the run to what a CPU, a CI job or a Colab GPU can do, every departure stated next to it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from .losses import resolve_vgg_rescale

#: A setting's rule: its type, a check of its value, and the valid range as an error message says it.
Rule = tuple[type, Callable[[Any], bool], str]


def setting(default: Any, rule: Rule) -> Any:
    """A :class:`TrainConfig` field with ``default`` whose valid range ``rule`` is kept beside it (field metadata)."""
    return dataclasses.field(default=default, metadata={"rule": rule})


def choice(*names: str) -> Rule:
    return str, lambda v: v in names, " or ".join(names)


def whole(least: int, most: int | None = None) -> Rule:
    rule = f"a whole number from {least} to {most}" if most is not None else f"a whole number >= {least}"
    return int, lambda v: v >= least and (most is None or v <= most), rule


positive_real: Rule = (float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")
real_at_least_0: Rule = (float, lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0")
flag: Rule = (bool, lambda v: True, "true or false")


def _rescale_ok(v: Any) -> bool:
    """What :func:`~srgan_lib.losses.resolve_vgg_rescale` accepts ("paper", "auto", a finite number > 0, also as
    text as ``--set`` gives it), but not a bool."""
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        return False
    try:
        resolve_vgg_rescale(v)
    except ValueError:
        return False
    return True


def _optional_lr(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0)


@dataclass
class TrainConfig:
    """Everything that defines a run; stored in every checkpoint (``dataclasses.asdict``)."""

    # -- the paper's settings (section 3.2, Figure 4) -----------------------------------------------------------
    mode: str = setting("srresnet", choice("srresnet", "srgan"))  # pixel MSE (SRResNet) or the GAN (SRGAN)
    scale: int = setting(4, (int, lambda v: v in (2, 4, 8), "2, 4 or 8"))  # 4x upscaling
    n_blocks: int = setting(16, whole(1, 256))  # B = 16 residual blocks (Figure 4)
    channels: int = setting(64, whole(1, 1024))  # 64 feature maps (Figure 4)
    crop: int = setting(96, (int, lambda v: v >= 8, "a whole number >= 8 (HR pixels, a multiple of the scale)"))
    batch_size: int = setting(16, whole(1))  # per process
    steps: int = setting(1000, whole(1))  # 10^6 for SRResNet, 2 x 10^5 for SRGAN
    lr: float = setting(1e-4, positive_real)  # Adam, beta1 = 0.9
    schedule: str = setting("constant", choice("constant", "step_half", "cosine"))  # step_half: SRGAN's x0.1 at half
    content: str = setting("mse", choice("mse", "vgg22", "vgg54"))  # content loss, both modes (section 2.2.1, Table 1)
    adversarial_weight: float = setting(1e-3, real_at_least_0)  # l_SR = content + 1e-3 l_Gen (equation 3)
    vgg_rescale: float | str = setting("paper", (object, _rescale_ok, '"paper" (1/12.75), "auto" (measured) or a '
                                                 "finite number > 0"))  # "auto": the paper's criterion, measured
    # for the VGG19 in use (vgg.vgg_rescale_for), kept in checkpoints; a number is used as given
    init_generator: str | None = setting(None, (object, lambda v: v is None or (isinstance(v, (str, os.PathLike))
                                                and str(v) != ""), "none or a weights file / bundled name"))
    # SRGAN's G starts from SRResNet weights: a .safetensors file or a bundled name

    # -- the recipe's deviations (not in the paper) --------------------------------------------------------------
    lr_d: float | None = setting(None, (object, _optional_lr, "none (the generator's learning rate) or a finite "
                                        "number > 0"))  # D's own learning rate: D may learn faster than a slow G
    warmup_steps: int = setting(0, whole(0))  # a fresh Adam's first steps move trained weights by the full lr
    min_lr: float = setting(0.0, real_at_least_0)  # floor of the cosine schedule (faster per CPU-second)
    freeze_bn: bool = setting(False, flag)  # G's BN in eval mode: a short run's small batches keep trained statistics
    freeze_upsampling: bool = setting(False, flag)  # only G's LR trunk learns: the 16 pixel-shuffle phases of a 4x4
    # cell cannot drift apart, the periodic grid a short adversarial run otherwise prints
    ema_decay: float = setting(0.0, (float, lambda v: math.isfinite(v) and 0 <= v < 1, "0 (off) or a decay in "
                                     "[0, 1), such as 0.999"))  # > 0: validate and export G's moving average, which
    # smooths the step-to-step jitter adversarial gradients add to G (BasicSR and ESRGAN-era recipes use 0.999)
    d_head_start: int = setting(0, whole(0))  # SRGAN: the first N steps train D only (G and its schedule wait)
    d_shift: int = setting(0, whole(0, 16))  # SRGAN: D sees real and generated crops cut at one random offset of
    # 0..d_shift pixels per step: a random phase between D's stride-2 grid and G's x4 pixel shuffle averages out the
    # period-2/4/8 pattern D's input gradient would otherwise print on G's output

    # -- the run's options (how and where it runs, not what is learned) ------------------------------------------
    vgg_weights: str = setting("imagenet", choice("imagenet", "random"))  # "random": code checks only, labelled
    allow_random_vgg: bool = setting(False, flag)  # a VGG content loss on "random" weights is refused unless true
    seed: int = setting(0, whole(0, 2**32 - 1))
    num_workers: int = setting(0, whole(0))  # DataLoader worker processes
    log_every: int = setting(50, whole(1))
    val_every: int = setting(500, whole(1))
    ckpt_every: int = setting(500, whole(1))
    keep_every: int = setting(0, whole(0))  # also keep step_XXXXXXX.pt snapshots every N steps (0: never)
    amp: bool = setting(True, flag)  # CUDA: bf16 where native, else fp16 with GradScalers
    cpu_bf16: bool = setting(False, flag)  # CPU with AMX: bf16 autocast too (opt-in)
    channels_last: bool = setting(True, flag)  # the memory format convolutions run fastest in on CUDA and x86
    compile: bool = setting(False, flag)  # torch.compile the networks
    collapse_window: int = setting(200, whole(0))  # SRGAN: steps over which D's accuracy is judged (0: off)

    #: The settings that shape the networks: a checkpoint made with other values cannot be resumed.
    ARCHITECTURE: ClassVar[tuple[str, ...]] = ("mode", "scale", "n_blocks", "channels")
    #: The settings that make a run's weights what they are, beside its identity (content loss, VGG19, data, preset):
    #: a checkpoint trained with other values is another run. ``steps`` is not one: a finished run may be extended.
    RECIPE: ClassVar[tuple[str, ...]] = (*ARCHITECTURE, "crop", "batch_size", "lr", "lr_d", "schedule", "warmup_steps",
                                         "min_lr", "adversarial_weight", "init_generator", "seed", "freeze_bn",
                                         "ema_decay", "d_head_start", "d_shift", "freeze_upsampling")

    def __post_init__(self) -> None:
        self.validate()
        if isinstance(self.init_generator, os.PathLike):  # stored as text: checkpoints load with weights_only=True
            self.init_generator = os.fspath(self.init_generator)

    def validate(self) -> None:
        """Check every field against the rule beside it, then the rules between fields: ``ValueError`` names the
        first bad option, its value and its valid range in one line (so ``--set log_every=0`` fails before any
        work)."""
        for f in dataclasses.fields(self):
            kind, ok, valid = f.metadata["rule"]
            value = getattr(self, f.name)
            right_type = (isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)) or (
                kind is float and isinstance(value, int) and not isinstance(value, bool))
            if not right_type or not ok(value):
                raise ValueError(f"training option {f.name}={value!r} is not valid: use {valid}")
        if self.crop % self.scale:
            raise ValueError(f"training option crop={self.crop} is not valid: use a multiple of the scale "
                             f"({self.scale})")
        if self.content != "mse" and self.vgg_weights == "random" and not self.allow_random_vgg:
            raise ValueError(f"training option vgg_weights='random' with content={self.content!r} is refused: the "
                             "content loss would be a distance in an untrained VGG19, not the paper's, and the result "
                             "would look real; get the ImageNet VGG19 (vgg_weights='imagenet', downloaded by "
                             "torchvision; on Colab automatically), use content='mse', or set allow_random_vgg=True "
                             "for a code check")
        if self.freeze_upsampling and not self.init_generator:
            raise ValueError("training option freeze_upsampling=True needs init_generator (trained weights whose "
                             "upsampling layers it keeps); with random weights they would stay random: give one, or "
                             "freeze_upsampling=False")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """A config from ``dataclasses.asdict`` output (a checkpoint's ``config``); unknown keys are refused."""
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown training options: {sorted(unknown)}")
        return cls(**d)


def lr_lambda(config: TrainConfig) -> Callable[[int], float]:
    """Multiplier of the base learning rate at each step, for ``torch.optim.lr_scheduler.LambdaLR``: a linear
    warm-up over ``warmup_steps``, then ``schedule``."""

    def f(step: int) -> float:
        if config.warmup_steps and step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        if config.schedule == "step_half":  # section 3.2: 1e-4, then 1e-5 for the second half
            return 1.0 if step < config.steps // 2 else 0.1
        if config.schedule == "cosine":
            span = max(1, config.steps - config.warmup_steps)
            t = min(1.0, (step - config.warmup_steps) / span)
            floor = config.min_lr / config.lr
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))
        return 1.0  # "constant"

    return f


# The recipes: a preset's values override TrainConfig's defaults. Times are estimates except where measured (the
# model cards in srgan_lib/weights/ give the measurements behind the shipped weights' recipes).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "srresnet": {
        # CI: seconds on a CPU, every code path (validation, checkpoint, samples) still runs.
        "quick": dict(steps=6, batch_size=4, crop=48, lr=1e-4, log_every=2, val_every=3, ckpt_every=3),
        # The recipe of the shipped weights: 64 x 64 crops and a cosine schedule converge faster per
        # CPU-second than the paper's constant 1e-4 (a stated deviation; the architecture is the paper's).
        "cpu": dict(steps=5000, batch_size=16, crop=64, lr=5e-4, schedule="cosine", warmup_steps=200,
                    min_lr=1e-6, log_every=50, val_every=500, ckpt_every=250),
        # DIV2K on a Colab T4 (fp16 autocast): an estimated 8-16 min (122 GFLOP per step at the 5-10 TFLOP/s a
        # T4 sustains; README, "Training SRGAN for real").
        "colab": dict(steps=40_000, batch_size=16, crop=96, lr=2e-4, schedule="cosine", warmup_steps=500,
                      min_lr=1e-6, num_workers=2, log_every=100, val_every=2000, ckpt_every=1000),
        # Section 3.2: 10^6 iterations at 1e-4.
        "paper": dict(steps=1_000_000, batch_size=16, crop=96, lr=1e-4, num_workers=4, log_every=500,
                      val_every=10_000, ckpt_every=5000),
    },
    "srgan": {
        "quick": dict(mode="srgan", steps=6, batch_size=2, crop=48, lr=1e-4, schedule="step_half", warmup_steps=2,
                      vgg_weights="random", allow_random_vgg=True, content="vgg54", log_every=2, val_every=3,
                      ckpt_every=3, collapse_window=0),
        # cpu and colab warm the learning rate up: G starts from trained SRResNet weights, and a fresh Adam's first
        # steps move every weight by about the full learning rate whatever its gradient; the paper's 10^5 steps
        # recover from that dip, short runs don't.
        # cpu is the recipe of the shipped srgan_mse_x4 (its card gives each choice and its measured effect): G's
        # BN statistics frozen (they belong to 96x96 crops), G's upsampling frozen and D shown a random window (the
        # period-4 grid), an EMA of G validated and exported, D at the paper's learning rate, G at a tenth of it,
        # and 5x the adversarial weight (what draws texture in 2,000 steps instead of the paper's 10^5).
        "cpu": dict(mode="srgan", steps=2000, batch_size=8, crop=64, lr=1e-5, lr_d=1e-4, schedule="step_half",
                    warmup_steps=100, content="mse", adversarial_weight=5e-3, init_generator="srresnet_x4",
                    freeze_bn=True, freeze_upsampling=True, d_shift=3, ema_decay=0.995, log_every=50,
                    val_every=200, ckpt_every=250),
        # colab's VGG rescale is measured: 1/12.75 was chosen to put the Caffe VGG19's loss "on a scale comparable
        # to the MSE loss" (section 3.2); torchvision's VGG19 takes ~58x smaller input, so with 1/12.75 its VGG54
        # loss is far below the MSE and D's 1e-3 term drives G almost alone. "auto" applies the paper's criterion
        # to the VGG19 actually loaded. colab also takes the cpu recipe's grid remedies (G's upsampling frozen, D
        # shown a random window) and an EMA of G (0.999 over 20,000 steps).
        "colab": dict(mode="srgan", steps=20_000, batch_size=16, crop=96, lr=1e-4, schedule="step_half",
                      warmup_steps=500, content="vgg54", vgg_rescale="auto", init_generator="srresnet_x4",
                      freeze_upsampling=True, d_shift=3, ema_decay=0.999, num_workers=2, log_every=100,
                      val_every=1000, ckpt_every=500),
        # Section 3.2: 10^5 iterations at 1e-4, then 10^5 at 1e-5, G started from a trained SRResNet (give one as
        # init_generator; `srgan train` uses the bundled srresnet_x4 when none is given).
        "paper": dict(mode="srgan", steps=200_000, batch_size=16, crop=96, lr=1e-4, schedule="step_half",
                      content="vgg54", num_workers=4, log_every=500, val_every=10_000, ckpt_every=5000),
    },
}


def preset(mode: str, name: str, **overrides: Any) -> TrainConfig:
    """A :class:`TrainConfig` from a named preset (``quick``, ``cpu``, ``colab``, ``paper``) and ``overrides``."""
    if mode not in PRESETS or name not in PRESETS[mode]:
        valid = {m: sorted(p) for m, p in PRESETS.items()}
        raise ValueError(f"unknown preset {mode}/{name}; valid presets: {valid}")
    return TrainConfig.from_dict({"mode": mode, **PRESETS[mode][name], **overrides})
