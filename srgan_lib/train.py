"""The paper's training loop for SRResNet (pixel MSE) and SRGAN (perceptual loss), section 3.2.

:func:`srresnet_step` is one Adam step (beta1 = 0.9) on the pixel MSE between G(LR) and HR, both in [-1, 1], or on
the VGG content loss alone (Table 1's SRResNet-VGG rows). :func:`srgan_step` is one D update, then one G update (k = 1)
on l_SR = content + 1e-3 * adversarial. :meth:`Trainer.fit` is the loop, each part at a numbered point; the recipe's
extras (not in the paper) are methods a subclass may override. The settings are
:class:`~srgan_lib.presets.TrainConfig`'s; device, DDP, mixed precision, SIGINT and exact resume are plain helpers in
:mod:`srgan_lib.plumbing.engine`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import Dataset

from . import losses
from .images import model_to_unit, unit_to_model
from .metrics import psnr, ssim
from .models import Discriminator, SRResNet
from .plumbing import engine, provenance
from .plumbing.checkpoint import save_checkpoint, save_weights
from .plumbing.engine import EXPORT_NAME, Engine, RunMismatch, TrainingDiverged
from .plumbing.runtime import seed_everything
from .plumbing.weights import load_generator_weights
from .presets import PRESETS, TrainConfig, lr_lambda, preset

ADAM_BETAS = (0.9, 0.999)  # section 3.2: Adam with beta1 = 0.9
Autocast = Callable[[], AbstractContextManager]  # mixed precision: a context factory (default: none)
WHOLE = (slice(None),)  # D's input window: the whole crop
PLAIN = torch.amp.GradScaler("cuda", enabled=False)  # no loss scaling: backward and step as they are


def update(loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None = None) -> None:
    """``zero_grad; backward; step``, through an fp16 ``scaler`` (loss scaled up, gradients down; skipped steps)."""
    scaler = scaler or PLAIN
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


def srresnet_step(G: nn.Module, opt_g: torch.optim.Optimizer, lr: torch.Tensor, hr: torch.Tensor,
                  content: losses.PerceptualLoss | None = None, *, autocast: Autocast = nullcontext,
                  scaler: torch.amp.GradScaler | None = None) -> dict[str, torch.Tensor]:
    """One SRResNet update (section 3.2). ``lr``: (N, 3, h, w) in [0, 1]; ``hr``: (N, 3, 4h, 4w) in [-1, 1]. The loss:
    pixel MSE on [-1, 1] (section 2.2.1), or with ``content`` (a :class:`~srgan_lib.losses.PerceptualLoss` of
    adversarial weight 0) the VGG content loss alone. Returns ``{"loss"}``, detached (no sync)."""
    with autocast():
        sr = G(lr)  # (N, 3, 4h, 4w)
        if content is not None:
            loss = content(sr, hr).total.float()
    if content is None:
        loss = F.mse_loss(sr.float(), hr.float())
    update(loss, opt_g, scaler)
    return {"loss": loss.detach()}


def srgan_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
               lr: torch.Tensor, hr: torch.Tensor, perceptual: losses.PerceptualLoss, *,
               autocast: Autocast = nullcontext, scalers: tuple[Any, Any] = (None, None),
               window: tuple[slice, ...] = WHOLE, train_g: bool = True) -> dict[str, torch.Tensor]:
    """One SRGAN iteration, k = 1 (section 3.2): a D update, then a G update through the updated D.

    ``lr``: (N, 3, h, w) in [0, 1]; ``hr``: (N, 3, 4h, 4w) in [-1, 1]. ``perceptual``: l_SR (equation 3).
    ``autocast`` and ``scalers`` (G's, D's) set mixed precision; ``window`` indexes what D sees of the mixed batch;
    ``train_g=False`` makes the D update only. Returns detached losses (no sync): ``d_loss``, ``d_acc`` and, when G
    trained, ``loss`` (l_SR), ``content``, ``adversarial``."""
    # D: real HR -> 1, G(LR) -> 0 (section 2.2.2), on one pass over both kinds (D's batch norm normalises them with
    # shared statistics, as its running statistics will); G's output is detached
    n = hr.shape[0]
    with autocast():
        sr = G(lr)  # (N, 3, 4h, 4w)
        real_logits, fake_logits = D(torch.cat([hr, sr.detach()])[window]).split(n)  # (N,), (N,)
    d_loss = losses.discriminator_loss(real_logits.float(), fake_logits.float())
    update(d_loss, opt_d, scalers[1])
    d_stats = {"d_loss": d_loss.detach(), "d_acc": losses.discriminator_accuracy(real_logits, fake_logits)}
    if not train_g:
        return d_stats
    # G: l_SR = content + 1e-3 * (-log D(G(LR))) through a fresh pass of the updated D (no graph reused across D's
    # step). D's weights are frozen for it: the gradient flows through D into G, none is computed for D's own
    # weights. Under DDP the bare D is called, whose forward arms no all-reduce for weights without gradients.
    d = D.module if isinstance(D, nn.parallel.DistributedDataParallel) else D
    with autocast(), engine.frozen(d):
        gen_logits = d(torch.cat([hr, sr])[window])[n:]  # (N,): the same mixed batch, gradient into G
        parts = perceptual(sr, hr, gen_logits.float())
    g_loss = parts.total.float()
    update(g_loss, opt_g, scalers[0])
    return {"loss": g_loss.detach(), "content": parts.content.float().detach(),
            "adversarial": parts.adversarial.float().detach(), **d_stats}


class Trainer:
    """Train SRResNet or SRGAN on a :class:`~srgan_lib.data.PatchDataset` into ``out_dir`` (``last.pt``, resumed
    when present and ``resume``). ``val_pairs``: ``(lr, hr)`` tensors ``(3, h, w)`` / ``(3, H, W)`` in [0, 1].
    ``vgg_extractor``: a built :class:`~srgan_lib.vgg.VGGFeatures` for the VGG content loss. ``facts``: the run's
    provenance the config cannot know (preset, data); a resume refuses another run's checkpoint (:class:`RunMismatch`).
    """

    def __init__(self, config: TrainConfig, train_set: Dataset, out_dir: str | Path,
                 val_pairs: Sequence[tuple[torch.Tensor, torch.Tensor]] = (), device: str | torch.device | None = None,
                 resume: bool = True, progress: bool = True, vgg_extractor: Any = None,
                 facts: dict[str, Any] | None = None) -> None:
        c = self.config = config
        self.train_set, self.val_pairs, self.facts = train_set, list(val_pairs), dict(facts or {})
        self.out_dir = Path(out_dir)
        self.engine = Engine(config, self.out_dir, device, progress)  # device, DDP, mixed precision, SIGINT
        self.device = self.engine.device
        seed_everything(c.seed)
        # G (Figure 4) and its Adam; SRGAN's G starts from SRResNet weights (section 3.2)
        self.generator = SRResNet(c.scale, c.n_blocks, c.channels)
        if c.init_generator:
            load_generator_weights(self.generator, c.init_generator)
        self.engine.place(self.generator)
        self.ema = AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(c.ema_decay), use_buffers=True
                                 ) if c.ema_decay else None  # recipe: G's moving average (weights and BN statistics)
        self.opt_g = torch.optim.Adam(self.trained_parameters(), lr=c.lr, betas=ADAM_BETAS)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, lr_lambda(c))
        # D (Figure 4) and its Adam, on G's schedule (recipe: lr_d)
        self.discriminator = self.opt_d = self.sched_d = None
        if c.mode == "srgan":
            self.discriminator = self.engine.place(Discriminator())
            self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=c.lr if c.lr_d is None else c.lr_d,
                                          betas=ADAM_BETAS)
            self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, lr_lambda(c))
        self.perceptual = None  # l_SR, equation (3); SRResNet-VGG: the content loss alone; None: pixel MSE
        if c.mode == "srgan" or c.content != "mse":
            engine.check_extractor(vgg_extractor, c)  # its weights must be the config's
            self.perceptual = losses.PerceptualLoss(c.content, c.adversarial_weight if c.mode == "srgan" else 0.0,
                                                    extractor=vgg_extractor, vgg_weights=c.vgg_weights).to(self.device)
        content_loss = self.perceptual.content_loss if self.perceptual is not None else None
        self.facts.update(provenance.vgg_facts(content_loss.vgg if content_loss is not None else None, c.content))
        self.vgg_rescale: float | None = None  # the VGG factor in use
        self.step, self.history, self.samples = 0, [], []  # samples: (step, validation image) pairs
        self.resumed_config: TrainConfig | None = None  # set by load(): the resumed run's own options
        if resume and (self.out_dir / "last.pt").is_file():
            self.load(self.out_dir / "last.pt")
        if self.perceptual is not None and self.perceptual.content_loss is not None:
            if self.vgg_rescale is None:  # "paper" or a number; recipe: "auto" is measured (unless resumed)
                self.vgg_rescale = losses.resolve_vgg_rescale(c.vgg_rescale) or self.engine.measure_vgg_rescale(
                    self.perceptual.content_loss.vgg, self.generator, self.batches)
            self.perceptual.content_loss.rescale = self.vgg_rescale
        engine.warn_cold_start(c, self.step)
        self.G, self.D = self.engine.wrap(self.generator), self.engine.wrap(self.discriminator)  # as steps call them

    @property
    def loss_label(self) -> str:
        """The loss in one line (it says "RANDOM weights" whenever the VGG19 is not pretrained)."""
        return "pixel MSE on [-1, 1] (section 2.2.1)" if self.perceptual is None else self.perceptual.label

    @property
    def eval_generator(self) -> nn.Module:
        """The generator that is validated, sampled and exported: G's moving average with ``ema_decay``, else G."""
        return self.generator if self.ema is None else self.ema.module

    # -- the recipe's hooks (not in the paper; TrainConfig says why) ------------------------------------------------
    def trained_parameters(self) -> list[nn.Parameter]:
        """G's parameters Adam updates: all, or with ``freeze_upsampling`` the LR trunk's only."""
        if self.config.freeze_upsampling:
            for p in [*self.generator.upsample.parameters(), *self.generator.tail.parameters()]:
                p.requires_grad_(False)
        return [p for p in self.generator.parameters() if p.requires_grad]

    def d_window(self) -> tuple[slice, ...]:
        """What D sees of the mixed batch at this step: all of it, or with ``d_shift`` = s one (H - s) x (W - s) window
        at an offset in 0..s, the same for real and generated crops, drawn from (seed, step) so a resume redraws it."""
        s = self.config.d_shift
        if not s:
            return WHOLE
        dy, dx = (int(v) for v in np.random.default_rng([self.config.seed, self.step]).integers(0, s + 1, 2))
        return (slice(None), slice(None), slice(dy, dy - s or None), slice(dx, dx - s or None))  # (2N, 3, H-s, W-s)

    def g_trains(self) -> bool:
        """Whether G is updated at this step: not during ``d_head_start`` (D only; G's schedule waits)."""
        return self.step >= self.config.d_head_start

    def train_mode(self, model: nn.Module, mode: bool) -> None:
        """``model.train(mode)``, but with ``freeze_bn`` G's batch-norm layers stay in eval mode."""
        engine.train_mode(model, mode, self.config.freeze_bn)

    def update_average(self) -> None:
        """After a G step, with ``ema_decay``: ``avg = decay * avg + (1 - decay) * G`` (the first update copies G)."""
        if self.ema is not None:
            self.ema.update_parameters(self.generator)

    def train_step(self, lr: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        """One iteration on a batch (``hr`` in [-1, 1]): :func:`srgan_step` or :func:`srresnet_step`."""
        e = self.engine
        if self.discriminator is None:
            return srresnet_step(self.G, self.opt_g, lr, hr, self.perceptual, autocast=e.autocast,
                                 scaler=e.scalers["g"])
        return srgan_step(self.G, self.D, self.opt_g, self.opt_d, lr, hr, self.perceptual, autocast=e.autocast,
                          scalers=(e.scalers["g"], e.scalers["d"]), window=self.d_window(), train_g=self.g_trains())

    def batches(self, first: int, last: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Training batches of steps ``first .. last - 1``: LR in [0, 1], HR in [-1, 1] (section 3.2)."""
        for lr, hr in self.engine.batches(self.train_set, first, last):
            yield lr, unit_to_model(hr)

    # -- the loop -------------------------------------------------------------------------------------------------
    def fit(self, steps: int | None = None, callback: Callable[["Trainer", dict], None] | None = None) -> list[dict]:
        """Train up to ``steps`` (default: the config's) and return the history (one dict per log or validation).
        ``callback(trainer, validation)`` runs after each validation."""
        c = self.config
        last = min(steps or c.steps, c.steps)
        self.train_mode(self.G, True)
        if self.D is not None:
            self.D.train()
        with self.engine.session(self.step, last) as run:  # SIGINT flag, progress bar, running means of the logs
            for lr, hr in self.batches(self.step, last):
                # 1. the step: D then G (SRGAN) or G alone (SRResNet); then the schedules and G's moving average
                g_trains = self.g_trains()
                run.add(self.train_step(lr, hr))
                if self.sched_d is not None:
                    self.sched_d.step()
                if g_trains:
                    self.sched_g.step()
                    self.update_average()
                self.step += 1
                end = self.step == last
                # 2. log: the means since the last log; health checks (non-finite losses, a collapsed D)
                if self.step % c.log_every == 0 or end:
                    self.history.append(run.log(step=self.step, lr=self.opt_g.param_groups[0]["lr"]))
                    try:
                        run.check(self.history, self.step)
                    except TrainingDiverged as err:  # keep what was trained: the last good generator is exported
                        raise engine.export_last_good(self, err) from err
                # 3. validation (rank 0)
                if (self.step % c.val_every == 0 or end) and self.engine.rank == 0 and self.val_pairs:
                    val = {**self.validate(), "step": self.step}
                    self.history.append(val)
                    run.show(val_psnr=val["val_psnr"])
                    if callback:
                        callback(self, val)
                # 4. checkpoints (rank 0), and a stop on SIGINT once saved
                if self.step % c.ckpt_every == 0 or end or run.stopping:
                    self.save()
                    run.saved_at = self.step
                if c.keep_every and self.step % c.keep_every == 0:
                    self.save(self.out_dir / f"step_{self.step:07d}.pt")
                if run.stopping:
                    raise KeyboardInterrupt(f"stopped at step {self.step}; resume from {self.out_dir / 'last.pt'}")
        return self.history

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean PSNR/SSIM ("standard" flavour, Y channel, crop = scale) over ``val_pairs``, of the saved uint8 image."""
        if not self.val_pairs:
            return {}
        g = self.eval_generator
        was_training = g.training
        g.eval()  # BN uses its running statistics at test time (section 3.2)
        ps, ss = [], []
        for lr, hr in self.val_pairs:
            with self.engine.autocast():
                sr = g(lr[None].to(self.device).contiguous(memory_format=self.engine.memory_format))
            sr = (model_to_unit(sr.float())[0].cpu() * 255).round() / 255  # (3, H, W) in [0, 1], as saved (uint8)
            ps.append(float(psnr(sr, hr, crop_border=self.config.scale)))
            ss.append(float(ssim(sr, hr, crop_border=self.config.scale)))
            if not self.samples or self.samples[-1][0] != self.step:
                self.samples.append((self.step, sr))
        self.train_mode(g, was_training)
        return {"val_psnr": float(np.mean(ps)), "val_ssim": float(np.mean(ss))}

    def recalibrate_bn(self, batches: int = 100) -> None:
        """Precise BN: :attr:`eval_generator`'s BN statistics recomputed on ``batches`` new batches (not freeze_bn)."""
        self.engine.recalibrate_bn(self.eval_generator, self.train_set, batches)

    # -- checkpoints and export -----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The checkpoint: config, step, networks, optimisers, schedules, history, RNGs... (``engine.run_state``)."""
        return engine.run_state(self)

    def save(self, path: str | Path | None = None) -> Path | None:
        """Write a checkpoint atomically (rank 0 only); default ``out_dir/last.pt``."""
        return save_checkpoint(self.state_dict(), path or self.out_dir / "last.pt") if self.engine.rank == 0 else None

    def load(self, path: str | Path) -> None:
        """Resume exactly from a :meth:`save` checkpoint (``engine.resume``); :class:`RunMismatch`: another run's."""
        engine.resume(self, path)

    def export_generator(self, path: str | Path, **card: Any) -> Path:
        """Save :attr:`eval_generator` as safetensors, with its config, provenance and ``card`` facts."""
        return save_weights(self.eval_generator, path, engine.export_meta(self, card))

    def export(self, path: str | Path | None = None, **card: Any) -> Path | None:
        """Keep what was scored, rank 0 only: write ``last.pt`` (with the BN statistics the generator was validated
        with) and export :attr:`eval_generator` to ``path`` (default ``out_dir/generator.safetensors``)."""
        if self.engine.rank != 0:
            return None
        self.save()
        return self.export_generator(path or self.out_dir / EXPORT_NAME, **card)
