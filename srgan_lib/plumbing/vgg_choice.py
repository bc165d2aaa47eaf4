"""Plumbing, not part of the lesson: which VGG19 (phi_i,j of section 2.2.1) a run's content loss gets when the
ImageNet weights may be unavailable: the pretrained one, else a labelled random one where that is honest.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

from ..vgg import VGGFeatures
from .vgg_weights import RandomVGGWarning, VGGRequired, VGGWeightsUnavailable


class ContentVGG(NamedTuple):
    """What :func:`content_vgg` built: the extractor, which weights it has, and why when not the pretrained ones."""

    vgg: VGGFeatures
    weights: str  # "imagenet" (the paper's) or "random" (the labelled fallback)
    reason: str | None  # one sentence: why the pretrained weights were not used; None when they were


def content_vgg(content: str = "vgg54", *, layer: str = "VGG54", weights: str = "imagenet",
                allow_random: bool = False, seed: int = 0, progress: bool = True) -> ContentVGG:
    """The VGG19 feature network of a run's content loss (section 2.2.1): pretrained, else a labelled random one.

    Tries the ImageNet VGG19 first (``weights="imagenet"``; :mod:`srgan_lib.plumbing.vgg_weights` fetches and caches
    it).
    When it is unavailable (offline and not cached), it falls back to seeded random weights only where that is
    honest: ``content="mse"`` (SRGAN-MSE trains on section 3.2's pixel loss, so nothing it measures depends on
    the VGG19) or an explicit ``allow_random`` (a code check or a lesson that labels every number with
    ``vgg.label``). A VGG content loss (``"vgg22"``, ``"vgg54"``) without ``allow_random`` raises
    :class:`~srgan_lib.plumbing.vgg_weights.VGGRequired`, whose message says what to do. ``weights="random"`` builds the
    random one at once. No :class:`~srgan_lib.plumbing.vgg_weights.RandomVGGWarning` is issued: the caller shows
    ``reason`` and ``vgg.label`` instead.

    Args:
        content: the run's content loss: ``"mse"``, ``"vgg22"`` or ``"vgg54"`` (any name but ``"mse"`` is a VGG loss).
        layer: the phi_{i,j} to build, e.g. ``"VGG54"`` or ``"VGG22"`` (built for ``"mse"`` too: one code path).
        weights: ``"imagenet"`` (try the pretrained weights) or ``"random"``.
        allow_random: accept random weights for a VGG content loss.
        seed: seed of the random weights, so runs repeat.
        progress: the download's progress bar.

    Returns:
        ``ContentVGG(vgg, weights, reason)``: ``weights`` is ``"imagenet"`` or ``"random"``; ``reason`` is the
        first line of the download error when the fallback was taken, else ``None``.
    """
    reason = None
    if weights == "imagenet":
        try:
            return ContentVGG(VGGFeatures(layer=layer, weights="imagenet", progress=progress), "imagenet", None)
        except VGGWeightsUnavailable as err:
            reason = str(err).splitlines()[0]
            if content.lower() != "mse" and not allow_random:
                raise VGGRequired(
                    f"STOP: CONTENT={content!r} needs the ImageNet-pretrained VGG19, which is unavailable here "
                    f"({reason.rstrip('.')}). On Colab it downloads by itself: check that the runtime is online "
                    "and run again; or train CONTENT = 'mse' (SRGAN-MSE needs no VGG19). Random VGG weights "
                    "(ALLOW_RANDOM_VGG, allow_random=True) are for code checks only.") from None
    elif weights != "random":
        raise ValueError(f'weights must be "imagenet" or "random", got {weights!r}')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomVGGWarning)  # the caller shows reason and vgg.label instead
        return ContentVGG(VGGFeatures(layer=layer, weights="random", seed=seed), "random", reason)
