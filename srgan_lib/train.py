"""The paper's training loop for SRResNet (pixel MSE) and SRGAN (perceptual loss), section 3.2.

- SRResNet: Adam (beta1 = 0.9), pixel MSE between G(LR) and HR, both in [-1, 1]. With ``content="vgg22"``
  or ``"vgg54"`` the same mode trains on the VGG content loss alone, no discriminator (Table 1's
  SRResNet-VGG22 row; VGG54 likewise), typically fine-tuning from MSE weights (``init_generator``).
- SRGAN: the generator starts from SRResNet weights; each iteration makes one discriminator update and
  one generator update (k = 1) with l_SR = content + 1e-3 * adversarial; the paper's schedule is 1e-4,
  then 1e-5 for the second half (``schedule="step_half"``). Content is ``mse``, ``vgg22`` or ``vgg54``
  (Table 1's SRGAN-MSE / -VGG22 / -VGG54).

What a long run needs besides (mixed precision, DDP, torch.compile, SIGINT, health checks, precise BN, G's
moving average, exact resume) is :class:`~srgan_lib.plumbing.engine.Engine`'s, called from the loop at named points.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from . import losses
from .plumbing import provenance
from .plumbing.checkpoint import load_checkpoint, save_checkpoint, save_weights
from .plumbing.engine import Engine, TrainingDiverged, check_options
from .images import model_to_unit, unit_to_model
from .metrics import psnr, ssim
from .models import Discriminator, SRResNet
from .presets import PRESETS
from .plumbing.runtime import describe_device, seed_everything
from .vgg import VGGFeatures
from .plumbing.weights import checkpoint_generator_state, load_generator_weights

ADAM_BETAS = (0.9, 0.999)  # section 3.2: Adam with beta1 = 0.9
EXPORT_NAME = "generator.safetensors"  # the generator a run validated, exported beside its last.pt


class RunMismatch(ValueError):
    """A run folder's checkpoint was started with another identity (content loss, VGG19, VGG factor, data, preset)."""


@dataclass
class TrainConfig:
    """Everything that defines a run; stored in every checkpoint. Paper values name their section."""

    mode: str = "srresnet"  # "srresnet" (pixel MSE) or "srgan"
    scale: int = 4  # 4x upscaling (section 3.2)
    n_blocks: int = 16  # B = 16 residual blocks (Figure 4, section 3.2)
    channels: int = 64  # 64 feature maps (Figure 4)
    crop: int = 96  # HR crop side (section 3.2)
    batch_size: int = 16  # per process (section 3.2)
    steps: int = 1000
    lr: float = 1e-4  # section 3.2
    lr_d: float | None = None  # SRGAN: the discriminator's learning rate (None: lr, as in the paper)
    schedule: str = "constant"  # "constant", "step_half" (x0.1 at half: SRGAN, section 3.2) or "cosine"
    warmup_steps: int = 0
    min_lr: float = 0.0  # floor of the cosine schedule
    content: str = "mse"  # content loss, both modes: "mse", "vgg22", "vgg54" (section 2.2.1; Table 1)
    adversarial_weight: float = 1e-3  # section 2.2
    vgg_weights: str = "imagenet"  # or "random" (quick runs only; loudly labelled)
    allow_random_vgg: bool = False  # a VGG content loss on "random" weights is refused unless this is true (offline
    # tests and code checks only: such a run trains against an untrained network, and its files say so)
    vgg_rescale: float | str = "paper"  # VGG feature factor: "paper" (1/12.75, section 3.2), a number, or "auto":
    # measured at start by the paper's criterion for the VGG19 in use (vgg.vgg_rescale_for), kept in checkpoints
    init_generator: str | None = None  # generator weights (.safetensors or bundled name) to start from
    seed: int = 0
    num_workers: int = 0
    log_every: int = 50
    val_every: int = 500
    ckpt_every: int = 500
    keep_every: int = 0  # also keep step_XXXXXXX.pt snapshots every N steps (0: never)
    amp: bool = True  # CUDA: bf16 where native, else fp16 with GradScalers
    cpu_bf16: bool = False  # CPU with AMX: bf16 autocast too (opt-in; not in the paper; 2.7x faster steps here)
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
        """Check every field (type and range): ``ValueError`` names the first bad option in one line."""
        check_options(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown training options: {sorted(unknown)}")
        return cls(**d)


def preset(mode: str, name: str, **overrides: Any) -> TrainConfig:
    """A :class:`TrainConfig` from a named preset (``quick``, ``cpu``, ``colab``, ``paper``)."""
    if mode not in PRESETS or name not in PRESETS[mode]:
        valid = {m: sorted(p) for m, p in PRESETS.items()}
        raise ValueError(f"unknown preset {mode}/{name}; valid presets: {valid}")
    return TrainConfig.from_dict({"mode": mode, **PRESETS[mode][name], **overrides})


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


class Trainer:
    """Train SRResNet or SRGAN on a :class:`~srgan_lib.data.PatchDataset`.

    ``val_pairs`` is a list of ``(lr, hr)`` tensors ``(3, h, w)`` / ``(3, H, W)`` in [0, 1] (for example
    Set5 made with the MATLAB-era resize); validation reports mean PSNR/SSIM ("standard" flavour).
    ``out_dir`` holds ``last.pt`` (resumed automatically when present), ``samples/`` and ``history``.
    ``vgg_extractor``: an already built :class:`~srgan_lib.vgg.VGGFeatures` for the VGG content loss
    (saves building VGG19 twice); its layer and weights must match ``config.content``/``vgg_weights``.
    ``facts``: what the config cannot know, for the run's provenance and identity, e.g. ``preset`` and the training
    data's :func:`~srgan_lib.plumbing.provenance.data_facts`. A resume refuses a checkpoint of another identity
    (:class:`RunMismatch`: content loss, VGG19, VGG factor, data, preset).
    """

    def __init__(self, config: TrainConfig, train_set: Dataset, out_dir: str | Path,
                 val_pairs: Sequence[tuple[torch.Tensor, torch.Tensor]] = (), device: str | torch.device | None = None,
                 resume: bool = True, progress: bool = True, vgg_extractor: VGGFeatures | None = None,
                 facts: dict[str, Any] | None = None) -> None:
        self.config, self.train_set, self.val_pairs = config, train_set, list(val_pairs)
        self.facts = dict(facts or {})
        self.out_dir = Path(out_dir)
        self.engine = Engine(config, self.out_dir, device, progress)  # device, DDP, precision, extras
        self.device = self.engine.device
        seed_everything(config.seed)

        # G (Figure 4) and its Adam; SRGAN's G starts from SRResNet weights (section 3.2)
        self.generator = SRResNet(config.scale, config.n_blocks, config.channels)
        if config.init_generator:
            load_generator_weights(self.generator, config.init_generator)
        self.engine.place(self.generator)
        self.engine.track_average(self.generator)  # ema_decay: a moving average of G (not in the paper)
        if config.freeze_upsampling:  # not in the paper: only the LR trunk learns
            for p in [*self.generator.upsample.parameters(), *self.generator.tail.parameters()]:
                p.requires_grad_(False)
        trained = [p for p in self.generator.parameters() if p.requires_grad]
        self.opt_g = torch.optim.Adam(trained, lr=config.lr, betas=ADAM_BETAS)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, lr_lambda(config))
        self.discriminator, self.perceptual, self.vgg_rescale = None, None, None  # vgg_rescale: the factor in use
        self.loss_label = "pixel MSE on [-1, 1] (section 2.2.1)"
        if config.mode == "srgan":  # D (Figure 4) and its Adam, on G's schedule (lr_d: not in the paper)
            self.discriminator = self.engine.place(Discriminator())
            lr_d = config.lr if config.lr_d is None else float(config.lr_d)
            self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=lr_d, betas=ADAM_BETAS)
            self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, lr_lambda(config))
        if config.mode == "srgan" or config.content != "mse":  # l_SR, equation (3); SRResNet-VGG: content only
            if vgg_extractor is not None and vgg_extractor.weights != config.vgg_weights:
                raise ValueError(f"vgg_extractor has weights={vgg_extractor.weights!r}, the config says "
                                 f"vgg_weights={config.vgg_weights!r}")
            self.perceptual = losses.PerceptualLoss(
                config.content, config.adversarial_weight if config.mode == "srgan" else 0.0, extractor=vgg_extractor,
                vgg_weights=config.vgg_weights, vgg_rescale=losses.VGG_RESCALE).to(self.device)  # "auto": see below
            self.loss_label = self.perceptual.label  # says "RANDOM weights" whenever VGG is not pretrained
        content_loss = self.perceptual.content_loss if self.perceptual is not None else None
        self.facts.update(provenance.vgg_facts(content_loss.vgg if content_loss is not None else None, config.content))

        self.step, self.history, self.samples = 0, [], []  # samples: (step, validation image) pairs
        self.resumed_config: TrainConfig | None = None  # set by load(): the resumed run's own options
        if resume and (self.out_dir / "last.pt").is_file():
            self.load(self.out_dir / "last.pt")
        if self.perceptual is not None and self.perceptual.content_loss is not None:
            if self.vgg_rescale is None:  # "paper" or a number; "auto" is measured now unless the checkpoint has it
                self.vgg_rescale = losses.resolve_vgg_rescale(config.vgg_rescale) or self.engine.measure_vgg_rescale(
                    self.perceptual.content_loss.vgg, self.generator, self._batches)
            self.perceptual.content_loss.rescale = self.vgg_rescale
            self.loss_label = self.perceptual.label
        self.engine.check_start(self.step)  # warns: trained weights, a fresh Adam and no warm-up
        self._g, self._d = self.engine.wrap(self.generator), self.engine.wrap(self.discriminator)

    @property
    def eval_generator(self) -> nn.Module:
        """The generator that is validated, sampled and exported: G's moving average with ``ema_decay``, else G."""
        return self.generator if self.engine.ema is None else self.engine.ema.module

    # -- checkpoints --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The checkpoint: config, step, networks, optimisers, schedules, history (+ the engine's scalers, RNGs)."""
        state = {"config": dataclasses.asdict(self.config), "step": self.step, "generator": self.generator.state_dict(),
                 "opt_g": self.opt_g.state_dict(), "sched_g": self.sched_g.state_dict(), "history": self.history}
        if self.discriminator is not None:
            state.update(discriminator=self.discriminator.state_dict(), opt_d=self.opt_d.state_dict(),
                         sched_d=self.sched_d.state_dict())
        if self.vgg_rescale is not None:
            state["vgg_rescale"] = self.vgg_rescale  # a measured ("auto") factor: a resume uses the same one
        state["provenance"] = self.provenance()  # plain types: loads with weights_only=True
        return {**state, **self.engine.state_dict()}

    def provenance(self) -> dict[str, Any]:
        """Where the generator comes from (:mod:`srgan_lib.plumbing.provenance`): content loss, VGG19 identity and factor,
        data, init weights, steps, preset, precision, device, library version. Plain types only."""
        c, init = self.config, self.config.init_generator
        facts = {"content": c.content, "vgg_rescale_setting": str(c.vgg_rescale),
                 "vgg_rescale": self.vgg_rescale if self.vgg_rescale is not None else "none (pixel MSE)",
                 "init_generator": "none (random weights)" if not init else Path(init).name,
                 "step": self.step, "precision": self.engine.precision, "device": describe_device(self.device),
                 **provenance.version_facts(), **self.facts}
        return {k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in facts.items()}

    def save(self, path: str | Path | None = None) -> Path | None:
        """Write a checkpoint atomically (rank 0 only); default ``out_dir/last.pt``."""
        if self.engine.rank != 0:
            return None
        return save_checkpoint(self.state_dict(), path or self.out_dir / "last.pt")

    def load(self, path: str | Path) -> None:
        """Resume from a checkpoint written by :meth:`save`."""
        state = load_checkpoint(path, map_location=self.device)
        saved = TrainConfig.from_dict(state["config"])
        self.resumed_config = saved  # the options the run was started with (callers may compare them)
        for key in ("mode", "scale", "n_blocks", "channels"):
            if getattr(saved, key) != getattr(self.config, key):
                raise RunMismatch(f"{path}: checkpoint has {key}={getattr(saved, key)!r}, "
                                 f"this run has {getattr(self.config, key)!r}")
        self.check_identity(state, path)
        self.generator.load_state_dict(state["generator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.sched_g.load_state_dict(state["sched_g"])
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.opt_d.load_state_dict(state["opt_d"])
            self.sched_d.load_state_dict(state["sched_d"])
        if "vgg_rescale" in state and str(self.config.vgg_rescale).strip().lower() == "auto":
            self.vgg_rescale = float(state["vgg_rescale"])
        self.step = int(state["step"])
        self.history = list(state["history"])
        self.engine.load_state_dict(state, path)  # last: it restores the RNG states

    def check_identity(self, state: dict[str, Any], path: str | Path) -> None:
        """Refuse to resume checkpoint ``state`` (read from ``path``) when it was started with another content loss,
        VGG19 (weights or their hash), VGG factor setting, training data or preset: the run would mix two
        experiments (a factor measured on a random VGG19 kept with the real one, say). Fields an older checkpoint
        lacks are not compared."""
        saved_config = state["config"]
        saved = {"content": saved_config.get("content", "mse"), "vgg_rescale_setting": str(
            saved_config.get("vgg_rescale", "paper")), **state.get("provenance", {})}
        if saved["content"] != "mse":  # the VGG19 matters only to a VGG content loss
            saved.setdefault("vgg_weights", saved_config.get("vgg_weights", "imagenet"))
        else:
            saved["vgg_rescale_setting"] = provenance.UNKNOWN  # unused by pixel MSE
        now = {**self.provenance()}
        if self.config.content == "mse":
            now["vgg_rescale_setting"] = provenance.UNKNOWN
        diff = provenance.mismatches(saved, now)
        if diff:
            raise RunMismatch(f"{path}: this checkpoint belongs to another run ({'; '.join(diff)}); resuming would mix "
                              "the two. Start a fresh run (another folder, or remove this last.pt), or use the "
                              "settings it was started with")

    def export_generator(self, path: str | Path, **card: Any) -> Path:
        """Save the generator that is validated (its moving average with ``ema_decay``) as safetensors, with its
        config, its :meth:`provenance` and ``card`` facts in the metadata."""
        meta = {"model": "SRResNet", **self.generator.config(), "step": self.step, **self.provenance(), **card}
        if self.engine.ema is not None:
            meta["ema_decay"] = self.config.ema_decay
        return save_weights(self.eval_generator, path, meta)

    def export(self, path: str | Path | None = None, **card: Any) -> Path | None:
        """Keep what was scored: write ``last.pt`` (so it holds the BN statistics the generator was validated with,
        after :meth:`recalibrate_bn`) and export :attr:`eval_generator` to ``path`` (default
        ``out_dir/generator.safetensors``), rank 0 only. Loading either file as weights gives the same generator."""
        if self.engine.rank != 0:
            return None
        self.save()
        return self.export_generator(path or self.out_dir / EXPORT_NAME, **card)

    def _export_last_good(self, err: TrainingDiverged) -> TrainingDiverged:
        """After a health-check stop: export the last good generator (the current one when its weights are finite,
        else the one in ``last.pt``) so that the run keeps what it trained; the returned error says where."""
        if self.engine.rank != 0:
            return err
        g = self.eval_generator
        finite = all(bool(torch.isfinite(t).all()) for t in g.state_dict().values() if t.is_floating_point())
        last = self.out_dir / "last.pt"
        if not finite and last.is_file():
            tensors, step = checkpoint_generator_state(last)
            g = SRResNet(self.config.scale, self.config.n_blocks, self.config.channels)
            g.load_state_dict(tensors)
        elif not finite:
            return TrainingDiverged(f"{err}; no generator was exported (no finite weights and no checkpoint)")
        else:
            step = self.step
        meta = {"model": "SRResNet", **g.config(), **self.provenance(), "step": step,
                "stopped": f"health check at step {self.step}"}
        path = save_weights(g, self.out_dir / EXPORT_NAME, meta)
        return TrainingDiverged(f"{err}; the last good generator (step {step}) was exported to {path}")

    # -- the steps ----------------------------------------------------------------------------------
    def _batches(self, first: int, last: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Training batches of steps ``first .. last - 1``: LR in [0, 1], HR in [-1, 1] (section 3.2)."""
        for lr, hr in self.engine.batches(self.train_set, first, last):
            yield lr, unit_to_model(hr)

    def _srresnet_step(self, lr: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        with self.engine.autocast():
            sr = self._g(lr)  # (N, 3, 4h, 4w)
            if self.perceptual is not None:  # SRResNet-VGG: l_X = VGG content loss (+ TV for VGG22), no l_Gen
                loss = self.perceptual(sr, hr).total.float()
        if self.perceptual is None:
            loss = F.mse_loss(sr.float(), hr.float())  # section 2.2.1, pixel-wise MSE on [-1, 1]
        self._update_generator(loss)
        return {"loss": loss.detach()}

    def _update_generator(self, loss: torch.Tensor) -> None:
        """One Adam step of G on ``loss``, its schedule, and its moving average."""
        self.engine.step(loss, self.opt_g, "g")  # zero_grad, backward, Adam step (fp16: through G's GradScaler)
        self.sched_g.step()
        self.engine.update_average(self.generator)  # ema_decay only

    def _srgan_step(self, lr: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        # Discriminator update: real HR -> 1, G(LR) -> 0 (section 2.2.2). G's output is detached. One pass
        # over both kinds, so D's batch norm normalises them with shared statistics, as its running statistics
        # will (measured against one pass per kind in benchmarks/d_passes.txt: there G drifted below bicubic).
        n, window = hr.shape[0], self.engine.d_window(hr.shape, self.step)  # d_shift: a random window (not paper)
        with self.engine.autocast():
            sr = self._g(lr)  # (N, 3, 4h, 4w)
            real_logits, fake_logits = self._d(torch.cat([hr, sr.detach()])[window]).split(n)  # (N,), (N,)
        d_loss = losses.discriminator_loss(real_logits.float(), fake_logits.float())
        self.engine.step(d_loss, self.opt_d, "d")  # zero_grad, backward, Adam step (fp16: through D's GradScaler)
        self.sched_d.step()
        d_acc = losses.discriminator_accuracy(real_logits, fake_logits)  # 0-d, no gradient
        d_stats = {"d_loss": d_loss.detach(), "d_acc": d_acc}
        if self.step < self.config.d_head_start:  # not in the paper: D's head start, G and its schedule wait
            return d_stats
        # Generator update: l_SR = content + 1e-3 * (-log D(G(LR))), with a fresh pass through the
        # just-updated D (no graph is reused across the D step, so no in-place autograd error).
        # D's weights are frozen for this pass: the gradient flows through D into G, none is computed for D's own
        # weights (the G step would only throw it away; benchmarks/g_step_d_grads.py measures the saving).
        with self.engine.autocast(), self.engine.frozen(self.discriminator) as d:
            gen_logits = d(torch.cat([hr, sr])[window])[n:]  # (N,): the same mixed batch, gradient into G
            parts = self.perceptual(sr, hr, gen_logits.float())  # VGG runs in mixed precision too
        g_loss, content, adversarial = parts.total.float(), parts.content.float(), parts.adversarial.float()
        self._update_generator(g_loss)
        return {"loss": g_loss.detach(), "content": content.detach(), "adversarial": adversarial.detach(), **d_stats}

    def recalibrate_bn(self, batches: int = 100) -> None:
        """Precise BN (:meth:`~srgan_lib.plumbing.engine.Engine.recalibrate_bn`): the BN statistics of the generator that
        is exported recomputed with its final weights on ``batches`` fresh training batches; none with ``freeze_bn``."""
        self.engine.recalibrate_bn(self.eval_generator, self.train_set, batches)

    # -- validation and the loop --------------------------------------------------------------------
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean PSNR/SSIM ("standard" flavour, Y channel, crop = scale) over ``val_pairs``."""
        if not self.val_pairs:
            return {}
        g = self.eval_generator
        was_training = g.training
        g.eval()  # BN uses its running statistics at test time (section 3.2)
        ps, ss = [], []
        for lr, hr in self.val_pairs:
            with self.engine.autocast():
                sr = g(lr[None].to(self.device).contiguous(memory_format=self.engine.memory_format))
            sr = model_to_unit(sr.float())[0].cpu()  # (3, H, W) in [0, 1]
            sr = (sr * 255).round() / 255  # evaluate the image as it would be saved (uint8)
            ps.append(float(psnr(sr, hr, crop_border=self.config.scale)))
            ss.append(float(ssim(sr, hr, crop_border=self.config.scale)))
            if not self.samples or self.samples[-1][0] != self.step:
                self.samples.append((self.step, sr))
        self.engine.train_mode(g, was_training)
        return {"val_psnr": float(np.mean(ps)), "val_ssim": float(np.mean(ss))}

    def fit(self, steps: int | None = None, callback: Callable[["Trainer", dict], None] | None = None) -> list[dict]:
        """Train up to ``steps`` (default: the config's) and return the history (one dict per log)."""
        c = self.config
        last = min(steps or c.steps, c.steps)
        self.engine.train_mode(self._g, True)
        if self._d is not None:
            self._d.train()
        step_fn = self._srgan_step if c.mode == "srgan" else self._srresnet_step
        with self.engine.session(self.step, last) as run:  # SIGINT, progress bar, running means, health checks
            for lr, hr in self._batches(self.step, last):
                run.add(step_fn(lr, hr))
                self.step += 1
                end = self.step == last
                if self.step % c.log_every == 0 or end:
                    self.history.append(run.log(step=self.step, lr=self.opt_g.param_groups[0]["lr"]))
                    try:
                        run.check(self.history, self.step)  # TrainingDiverged: non-finite losses, D collapsed
                    except TrainingDiverged as err:  # keep what was trained: the last good generator is exported
                        raise self._export_last_good(err) from err
                if (self.step % c.val_every == 0 or end) and self.engine.rank == 0 and self.val_pairs:
                    val = {**self.validate(), "step": self.step}
                    self.history.append(val)
                    run.show(val_psnr=val["val_psnr"])  # the progress bar's latest validation
                    if callback:
                        callback(self, val)
                if self.step % c.ckpt_every == 0 or end or run.stopping:
                    self.save()
                    run.saved_at = self.step
                if c.keep_every and self.step % c.keep_every == 0:
                    self.save(self.out_dir / f"step_{self.step:07d}.pt")  # rank 0 only, as every save
                if run.stopping:
                    raise KeyboardInterrupt(f"stopped at step {self.step}; resume from {self.out_dir / 'last.pt'}")
        return self.history
