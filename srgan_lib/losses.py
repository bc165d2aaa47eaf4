"""The losses of SRGAN (paper section 2.2): pixel MSE, VGG content loss, TV, adversarial, perceptual.

    l_SR = l_X + 1e-3 * l_Gen                                   perceptual loss, equation (3)

- ``l_X`` (content): :func:`pixel_mse` (equation 4) or :class:`ContentLoss`, the VGG loss on the feature
  map phi_{i,j} of :mod:`srgan_lib.vgg` (equation 5, section 2.2.1), optionally with the total-variation
  regulariser :func:`tv_loss` that the paper adds to its VGG22 variants.
- ``l_Gen`` (adversarial, section 2.2.2): :func:`generator_adversarial_loss`; the discriminator is trained
  with :func:`discriminator_loss` (and judged by :func:`discriminator_accuracy`). Both take the discriminator's *logits*
  (:class:`srgan_lib.models.Discriminator` has no sigmoid): the sigmoid of Figure 4 lives inside the
  losses, written with ``softplus`` so that it never takes ``log(0)``.
- :class:`PerceptualLoss` puts the terms together and returns every part (:class:`LossParts`).
- Their balance: the VGG features are rescaled by 1/12.75 (:data:`VGG_RESCALE`, section 3.2) or by a
  factor measured by the paper's own criterion for the VGG19 actually loaded
  (:func:`srgan_lib.vgg.measure_vgg_rescale`; :func:`resolve_vgg_rescale` reads the setting);
  :func:`gradient_shares` reports how hard the content and the 1e-3-weighted adversarial terms pull on
  the SR image.

Value ranges (section 3.2): SR and HR images enter every loss here in [-1, 1]. The VGG extractor maps
them to ImageNet normalisation itself (:func:`srgan_lib.vgg.to_imagenet`), exactly once, so callers
cannot forget it or do it twice.

Reductions. Every loss is a mean over the batch. The paper writes ``l_Gen`` as a *sum* over the N
training samples (equation 6) and ``l_X`` per image, so read literally the adversarial term would grow
with the batch size. Using the per-image mean for both keeps the ratio the paper means: 1e-3 is the
weight of one image's adversarial loss against the same image's content loss, whatever the batch size.
(Using the sum for ``l_Gen`` and a mean for ``l_X`` would make the effective weight ``1e-3 * N``, i.e.
1.6e-2 at the paper's N = 16.) A common factor on the *whole* loss hardly matters with Adam, which is
invariant to a constant rescaling of the gradient (up to its epsilon).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .vgg import DEFAULT_PHI, VGGFeatures, parse_phi

# ---------------------------------------------------------------------------------------------------
# Paper constants (Ledig et al. 2017), each in one place with its source.
# ---------------------------------------------------------------------------------------------------
ADVERSARIAL_WEIGHT = 1e-3  # weight of l_Gen in l_SR = l_X + 1e-3 l_Gen, section 2.2, equation (3)
VGG_RESCALE = 1.0 / 12.75  # on the VGG feature maps, section 3.2: 1/12.75^2 = 0.00615 on the loss ("about 0.006")
TV_WEIGHT = 2e-8  # total-variation regulariser of the VGG22 variants (SRResNet-VGG22, Table 1)
ADVERSARIAL_KINDS = ("non_saturating", "saturating")  # the two forms of l_Gen, section 2.2.2

# ---------------------------------------------------------------------------------------------------
# Content losses (section 2.2.1) and the TV regulariser
# ---------------------------------------------------------------------------------------------------
def _check_pair(sr: torch.Tensor, hr: torch.Tensor) -> None:
    if sr.shape != hr.shape:
        raise ValueError(f"SR and HR must have the same shape, got {tuple(sr.shape)} and {tuple(hr.shape)}")


def pixel_mse(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """Pixel-wise MSE (equation 4), both images in [-1, 1] as in section 3.2; mean over all elements."""
    _check_pair(sr, hr)
    return F.mse_loss(sr, hr)


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Total variation of ``(N, C, H, W)`` images: sum of ``|dx| + |dy|`` per image, mean over the batch.

    The paper adds TV (weight 2e-8, :data:`TV_WEIGHT`) to its VGG22 variants but does not write its
    formula. We use the anisotropic L1 form summed over pixels and channels (a per-pixel mean would make
    a weight of 2e-8 vanish); both choices are ours.
    """
    if x.ndim != 4:
        raise ValueError(f"tv_loss expects (N, C, H, W), got shape {tuple(x.shape)}")
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs()  # (N, C, H-1, W)
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs()  # (N, C, H, W-1)
    return (dy.flatten(1).sum(1) + dx.flatten(1).sum(1)).mean()


class ContentLoss(nn.Module):
    """The VGG loss l_VGG/i.j (equation 5): MSE between ``VGG_RESCALE * phi(SR)`` and ``VGG_RESCALE * phi(HR)``.

    SR and HR are ``(N, 3, H, W)`` in [-1, 1]. The features are rescaled by ``rescale``, 1/12.75 by default
    (section 3.2; see :data:`VGG_RESCALE` and :func:`srgan_lib.vgg.measure_vgg_rescale`), so the loss is
    ``rescale^2 * mean((phi(SR) - phi(HR))^2)``. Possible deviation,
    stated: equation 5 normalises the summed squared distance by the map's W*H; we take the mean over
    channels too (like the pixel MSE), a further 1/C (C = 512 for VGG54, 128 for VGG22). Section 3.2's
    "comparable to the MSE loss" fits this reading, but the paper does not settle it.
    The HR features are computed without a graph (the target gets no gradient); the SR side keeps its
    graph, so the generator is trained by this loss.
    """

    def __init__(self, layer: str | None = None, *, weights: str = "imagenet", rescale: float = VGG_RESCALE,
                 extractor: VGGFeatures | None = None, **vgg_kwargs) -> None:
        super().__init__()
        if extractor is None:
            extractor = VGGFeatures(layer=layer or "VGG{}{}".format(*DEFAULT_PHI), weights=weights, **vgg_kwargs)
        elif layer is not None and parse_phi(layer) != (extractor.i, extractor.j):
            raise ValueError(f"layer {layer!r} does not match the extractor given, which is {extractor.name}")
        self.vgg = extractor
        self.rescale = rescale

    @property
    def is_random(self) -> bool:
        return self.vgg.is_random

    @property
    def label(self) -> str:
        return self.vgg.label

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        _check_pair(sr, hr)
        f_sr = self.vgg(sr) * self.rescale  # (N, C, h, w)
        with torch.no_grad():
            f_hr = self.vgg(hr) * self.rescale  # (N, C, h, w)
        return F.mse_loss(f_sr, f_hr)


# ---------------------------------------------------------------------------------------------------
# Adversarial losses (section 2.2.2), from logits
# ---------------------------------------------------------------------------------------------------
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's binary cross-entropy: real -> 1, generated -> 0 (D's side of equation 2: D maximises
    the objective, so it minimises this loss, its negative).

    ``-mean(log D(I_HR)) - mean(log(1 - D(G(I_LR))))`` with ``D = sigmoid(logit)``, computed by
    ``binary_cross_entropy_with_logits`` (stable for any logit). Call it with ``D(fake.detach())`` so the
    discriminator step does not reach into the generator. Logits 0 (D = 1/2) give ``2 log 2``.
    """
    real_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real_loss + fake_loss


def discriminator_accuracy(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D's balanced accuracy from its logits: the mean of the share of real images it calls real (logit > 0,
    i.e. D > 1/2) and the share of generated ones it calls generated (logit < 0). 0-d float tensor in [0, 1];
    1/2 for a D that gives every image the same answer, whatever the sizes of the two batches. No gradient.
    The SRGAN step of :mod:`srgan_lib.train` logs it as ``d_acc``."""
    with torch.no_grad():
        return 0.5 * ((real_logits > 0).float().mean() + (fake_logits < 0).float().mean())


def generator_adversarial_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """The generator's adversarial loss l_Gen (equation 6), minimised by G; mean over the batch.

    - ``"non_saturating"`` (the paper): ``-log D(G(x)) = softplus(-logit)``. Its gradient stays near -1
      per logit when D confidently rejects the fakes (D(G(x)) -> 0), early in training.
    - ``"saturating"`` (for the lesson): ``log(1 - D(G(x))) = -softplus(logit)``, the original minimax
      term. Its gradient ``-sigmoid(logit)`` vanishes exactly when D(G(x)) -> 0.
    """
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    if kind == "saturating":
        return (-F.softplus(fake_logits)).mean()
    raise ValueError(f"kind must be one of {ADVERSARIAL_KINDS}, got {kind!r}")


# ---------------------------------------------------------------------------------------------------
# Perceptual loss (section 2.2, equation 3)
# ---------------------------------------------------------------------------------------------------
@dataclass
class LossParts:
    """The perceptual loss and its parts. ``adversarial`` and ``tv`` are unweighted."""

    total: torch.Tensor
    content: torch.Tensor
    adversarial: torch.Tensor
    tv: torch.Tensor
    label: str

    def as_floats(self) -> dict[str, float]:
        """Detached Python floats, for logging."""
        return {k: float(getattr(self, k).detach()) for k in ("total", "content", "adversarial", "tv")}


class PerceptualLoss(nn.Module):
    """l_SR = l_X + adversarial_weight * l_Gen (+ tv_weight * TV), equation (3), weights configurable.

    Args:
        content: ``"mse"`` (equation 4), or a VGG layer name such as ``"vgg54"`` (SRGAN) or ``"vgg22"``.
        adversarial_weight: 1e-3 in the paper (:data:`ADVERSARIAL_WEIGHT`).
        tv_weight: weight of :func:`tv_loss`; default 2e-8 with VGG22 (:data:`TV_WEIGHT`), else 0.
        vgg_weights: ``"imagenet"`` or ``"random"`` (see :class:`VGGFeatures`); unused for ``"mse"``.
        adversarial_kind: ``"non_saturating"`` (paper) or ``"saturating"``.
        extractor: reuse an existing :class:`VGGFeatures` instead of building one.
        vgg_rescale: factor on the VGG feature maps; 1/12.75 in the paper (:data:`VGG_RESCALE`), or one
            measured for the VGG19 in use by :func:`srgan_lib.vgg.measure_vgg_rescale`. Unused for ``"mse"``.

    ``forward(sr, hr, fake_logits=None)``: ``fake_logits`` are the discriminator's logits on ``sr`` from
    a fresh forward pass (not the ones used for the discriminator step). Without them (SRResNet training)
    the adversarial part is 0.
    """

    def __init__(self, content: str = "vgg54", adversarial_weight: float = ADVERSARIAL_WEIGHT,
                 tv_weight: float | None = None, *, vgg_weights: str = "imagenet",
                 adversarial_kind: str = "non_saturating", extractor: VGGFeatures | None = None,
                 vgg_rescale: float = VGG_RESCALE, **vgg_kwargs) -> None:
        super().__init__()
        if adversarial_kind not in ADVERSARIAL_KINDS:
            raise ValueError(f"adversarial_kind must be one of {ADVERSARIAL_KINDS}, got {adversarial_kind!r}")
        if content.lower() == "mse":
            self.content_name = "MSE"
            self.content_loss: ContentLoss | None = None
        else:
            i, j = parse_phi(content)
            self.content_name = f"VGG{i}{j}"
            self.content_loss = ContentLoss(self.content_name, weights=vgg_weights, extractor=extractor,
                                            rescale=vgg_rescale, **vgg_kwargs)
        self.adversarial_weight = float(adversarial_weight)
        if tv_weight is None:
            tv_weight = TV_WEIGHT if self.content_name == "VGG22" else 0.0
        self.tv_weight = float(tv_weight)
        self.adversarial_kind = adversarial_kind

    @property
    def is_random(self) -> bool:
        """True when the content loss uses a random (not pretrained) VGG19."""
        return self.content_loss is not None and self.content_loss.is_random

    @property
    def label(self) -> str:
        """e.g. ``"l_SR = VGG54 + 0.001 x adversarial (non_saturating) | VGG54: VGG19 ImageNet-..."``."""
        text = f"l_SR = {self.content_name} + {self.adversarial_weight:g} x adversarial ({self.adversarial_kind})"
        if self.tv_weight:
            text += f" + {self.tv_weight:g} x TV"
        if self.content_loss is not None and self.content_loss.rescale != VGG_RESCALE:
            text += f", VGG features x {self.content_loss.rescale:.4g} (paper: 1/12.75 = {VGG_RESCALE:.4g})"
        if self.content_loss is not None:
            text += f" | {self.content_loss.label}"
        return text

    def forward(self, sr: torch.Tensor, hr: torch.Tensor, fake_logits: torch.Tensor | None = None) -> LossParts:
        content = pixel_mse(sr, hr) if self.content_loss is None else self.content_loss(sr, hr)
        zero = sr.new_zeros(())
        if fake_logits is None:
            adversarial = zero
        else:
            adversarial = generator_adversarial_loss(fake_logits, self.adversarial_kind)
        tv = tv_loss(sr) if self.tv_weight else zero
        total = content + self.adversarial_weight * adversarial + self.tv_weight * tv
        return LossParts(total=total, content=content, adversarial=adversarial, tv=tv, label=self.label)


# ---------------------------------------------------------------------------------------------------
# The balance of the terms: the VGG rescale setting, and the gradients on the image
# ---------------------------------------------------------------------------------------------------
def resolve_vgg_rescale(setting: float | str) -> float | None:
    """A ``vgg_rescale`` setting -> the factor: ``"paper"`` -> 1/12.75 (section 3.2), a number (or its
    text) -> that number, ``"auto"`` -> ``None`` (to be measured with :func:`srgan_lib.vgg.vgg_rescale_for`)."""
    if isinstance(setting, str):
        key = setting.strip().lower()
        if key == "paper":
            return VGG_RESCALE
        if key == "auto":
            return None
        try:
            value = float(key)
        except ValueError:
            raise ValueError(f'vgg_rescale must be "paper", "auto" or a positive number, got {setting!r}') from None
    else:
        value = float(setting)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f'vgg_rescale must be "paper", "auto" or a positive number, got {setting!r}')
    return value


def gradient_shares(loss: PerceptualLoss, discriminator: nn.Module, sr: torch.Tensor,
                    hr: torch.Tensor) -> dict[str, float]:
    """How hard each term of equation (3) pulls on the SR image, for one batch.

    Returns ``{"content": |d l_X / d SR|, "adversarial": |d (w l_Gen) / d SR|, "ratio": adversarial / content}``:
    L2 norms over the whole batch of the gradients with respect to the SR pixels of the content side
    (content loss, plus the TV term where it has a weight) and of the weighted adversarial loss
    (``w = loss.adversarial_weight``, 1e-3 in the paper), the discriminator's logits taken on ``sr`` as in
    the generator step. A ratio above 1 means the discriminator, not the content loss, decides where the
    pixels move. For the first steps of a run (notebooks 03 and 05), between ``trainer.fit(steps=k)`` calls::

        lr, hr = torch.utils.data.default_collate([data[i] for i in range(16)])  # a PatchDataset batch
        with torch.no_grad():
            sr = trainer.generator.eval()(lr)
        gradient_shares(trainer.perceptual, trainer.discriminator, sr, unit_to_model(hr))

    Nothing is trained: no parameter receives a gradient, and the discriminator's BN running statistics
    are restored after its forward pass (it runs in whatever mode it is in, train mode during training).
    """
    sr = sr.detach().float().requires_grad_(True)
    buffers = {k: v.clone() for k, v in discriminator.named_buffers()}
    try:
        parts = loss(sr, hr.float(), discriminator(sr).float())
        content_side = parts.content + loss.tv_weight * parts.tv
        adversarial_side = loss.adversarial_weight * parts.adversarial
        g_content, = torch.autograd.grad(content_side, sr, retain_graph=True, allow_unused=True)
        g_adversarial, = torch.autograd.grad(adversarial_side, sr, allow_unused=True)
    finally:  # after the backward passes, which check that the saved buffers were not modified
        with torch.no_grad():
            for k, v in discriminator.named_buffers():
                v.copy_(buffers[k])
    norms = [0.0 if g is None else float(g.double().norm()) for g in (g_content, g_adversarial)]
    ratio = norms[1] / norms[0] if norms[0] > 0 else math.inf
    return {"content": norms[0], "adversarial": norms[1], "ratio": ratio}
