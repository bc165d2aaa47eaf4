"""The VGG19 feature network phi_{i,j} of section 2.2.1, and the content-loss rescale measured for it.

- phi_{i,j} is "the feature map obtained by the j-th convolution (after activation) before the i-th
  maxpooling layer within the VGG19 network": :func:`vgg_layer_table` lists torchvision's layers with
  the paper's names, :func:`parse_phi` reads names such as ``"VGG54"``, and :class:`VGGFeatures` is
  VGG19 truncated just after phi_{i,j}, frozen. SRGAN uses phi_{5,4} (:data:`DEFAULT_PHI`).
- Its weights are torchvision's ImageNet VGG19 (``IMAGENET1K_V1``, fetched by :mod:`srgan_lib.plumbing.vgg_weights`),
  or random weights for quick runs, labelled as such (:mod:`srgan_lib.plumbing.vgg_choice` picks for a run).
- The rescale: section 3.2 multiplies the feature maps by 1/12.75 (``losses.VGG_RESCALE``), tuned for the Caffe
  VGG19, so that the VGG loss is "comparable to the MSE loss". :func:`measure_vgg_rescale` / :func:`vgg_rescale_for`
  apply that criterion to the VGG19 actually loaded (:data:`CAFFE_INPUT_SCALE`: why torchvision's differs).

Value range: images enter in [-1, 1] (section 3.2); :class:`VGGFeatures` maps them to ImageNet
normalisation itself (:func:`to_imagenet`), exactly once, so callers cannot forget it or do it twice.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from typing import Iterable, NamedTuple

import torch
from torch import nn
from torchvision.models import vgg19

from .plumbing.vgg_weights import (
    PRETRAINED_VGG_LABEL,
    RANDOM_VGG_LABEL,
    VGG19_WEIGHTS,
    RandomVGGWarning,
    init_like_torchvision,
    load_imagenet_features,
)

DEFAULT_PHI = (5, 4)  # SRGAN uses phi_{5,4} ("VGG54"), section 2.2.1 and Table 1
#: Caffe's VGG19 input over torchvision's, per channel (R, G, B): ``255 * std`` = (58.4, 57.1, 57.4), as Caffe feeds
#: ``255 x - mean_BGR`` and torchvision ``(x - mean) / std`` (x in [0, 1]; the means agree to 0.5 of 255).
CAFFE_INPUT_SCALE = tuple(255.0 * s for s in VGG19_WEIGHTS.transforms().std)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # the mean the Caffe VGG19 release subtracts, in [0, 255]


# ---------------------------------------------------------------------------------------------------
# VGG19 layers and the paper's phi_{i,j} names (section 2.2.1)
# ---------------------------------------------------------------------------------------------------
def _vgg19_layers_meta() -> nn.Sequential:
    """torchvision's VGG19 ``features`` built on the meta device: the layer list, no memory, no init."""
    with torch.device("meta"):
        return vgg19(weights=None).features


class VGGLayer(NamedTuple):
    """One row of :func:`vgg_layer_table`."""

    index: int  # position in torchvision's vgg19().features
    name: str  # conv{i}_{j}, relu{i}_{j} or pool{i}
    kind: str  # "conv 3x3 (in->out)", "ReLU", "maxpool 2x2"
    out_channels: int
    downscale: int  # spatial size of the output = input size / downscale
    phi: str  # "VGG{i}{j}" for the ReLU that the paper calls phi_{i,j}, else ""


def vgg_layer_table() -> list[VGGLayer]:
    """VGG19's feature layers as torchvision orders them, with the paper's phi_{i,j} names (section 2.2.1):
    phi_{i,j} is the output of the ReLU after conv{i}_{j}."""
    return list(_layer_rows())


@functools.lru_cache(maxsize=1)
def _layer_rows() -> tuple[VGGLayer, ...]:
    rows: list[VGGLayer] = []
    block, conv, channels, downscale = 1, 0, 3, 1
    for index, layer in enumerate(_vgg19_layers_meta()):
        if isinstance(layer, nn.Conv2d):
            conv += 1
            channels = layer.out_channels
            rows.append(VGGLayer(index, f"conv{block}_{conv}", f"conv 3x3 ({layer.in_channels}->{channels})",
                                 channels, downscale, ""))
        elif isinstance(layer, nn.ReLU):
            rows.append(VGGLayer(index, f"relu{block}_{conv}", "ReLU", channels, downscale, f"VGG{block}{conv}"))
        elif isinstance(layer, nn.MaxPool2d):
            downscale *= 2
            rows.append(VGGLayer(index, f"pool{block}", "maxpool 2x2", channels, downscale, ""))
            block, conv = block + 1, 0
        else:  # pragma: no cover - torchvision's VGG19 has only these three kinds
            raise TypeError(f"unexpected layer {layer!r} in torchvision's vgg19().features")
    return tuple(rows)


def phi_layers() -> dict[tuple[int, int], int]:
    """All valid ``(i, j)`` of phi_{i,j}, mapped to the index of their ReLU in ``vgg19().features``."""
    return {(int(r.phi[3]), int(r.phi[4])): r.index for r in _layer_rows() if r.phi}


def _valid_names() -> str:
    return ", ".join(f"VGG{i}{j}" for i, j in phi_layers())


def parse_phi(layer: str) -> tuple[int, int]:
    """``"VGG54"``, ``"vgg5_4"``, ``"phi54"`` or ``"phi_5,4"`` -> ``(5, 4)``; error listing valid names."""
    m = re.fullmatch(r"\s*(?:vgg|phi)[_ ]?\{?(\d)[_, ]?(\d)\}?\s*", str(layer), flags=re.IGNORECASE)
    if m is None or (int(m.group(1)), int(m.group(2))) not in phi_layers():
        raise ValueError(f"unknown VGG19 layer {layer!r}; valid phi_(i,j) names are: {_valid_names()}")
    return int(m.group(1)), int(m.group(2))


def phi_index(i: int, j: int) -> int:
    """Index in torchvision's ``vgg19().features`` of phi_{i,j} (the ReLU after conv{i}_{j})."""
    table = phi_layers()
    if (i, j) not in table:
        raise ValueError(f"VGG19 has no phi_({i},{j}); valid (i, j) names are: {_valid_names()}")
    return table[(i, j)]


# ---------------------------------------------------------------------------------------------------
# Feature extractor (section 2.2.1)
# ---------------------------------------------------------------------------------------------------
def to_imagenet(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Generator range [-1, 1] -> [0, 1] -> ImageNet normalisation ``(x - mean) / std`` per channel."""
    return ((x + 1.0) / 2.0 - mean) / std


class VGGFeatures(nn.Module):
    """VGG19 truncated just after phi_{i,j}, frozen, always in eval mode (paper section 2.2.1).

    ``(N, 3, H, W)`` in [-1, 1] -> ``(N, C, H / 2^(i-1), W / 2^(i-1))`` feature map, e.g. VGG54 on
    96 x 96 -> ``(N, 512, 6, 6)``, VGG22 -> ``(N, 128, 48, 48)``.

    Args:
        i, j: phi_{i,j}: the j-th conv (after its ReLU) before the i-th max-pool. Default (5, 4).
        layer: alternatively a name such as ``"VGG54"`` or ``"VGG22"`` (not together with i, j).
        weights: ``"imagenet"`` (the paper's choice; :mod:`srgan_lib.plumbing.vgg_weights` says how they are fetched)
            or ``"random"`` (explicit opt-in for quick runs: warns, and ``is_random``/``label`` say so).
        progress: show the download progress bar.
        seed: seed of the random weights (``weights="random"`` only), so quick runs repeat.
        verify_hash: also SHA-256-check an already cached weights file (torchvision checks only downloads).

    The ReLUs of the copy are not in-place (torchvision's are), so no feature map that autograd or a
    caller holds is ever overwritten. :meth:`train` is overridden: ``parent.train()`` cannot switch it
    out of eval mode. Its parameters have ``requires_grad=False``; gradients still flow to the input.
    """

    def __init__(self, i: int | None = None, j: int | None = None, *, layer: str | None = None,
                 weights: str = "imagenet", progress: bool = True, seed: int = 0,
                 verify_hash: bool = False) -> None:
        super().__init__()
        if layer is not None:
            if i is not None or j is not None:
                raise ValueError("give either layer=... or i, j, not both")
            i, j = parse_phi(layer)
        elif i is None and j is None:
            i, j = DEFAULT_PHI
        elif i is None or j is None:
            raise ValueError(f"give both i and j of phi_(i,j); valid names: {_valid_names()}")
        if weights not in ("imagenet", "random"):
            raise ValueError(f'weights must be "imagenet" (the paper) or "random" (quick runs), got {weights!r}')
        self.i, self.j = int(i), int(j)
        self.index = phi_index(self.i, self.j)
        self.weights = weights

        layers = list(_vgg19_layers_meta())[: self.index + 1]  # conv1_1 ... relu{i}_{j}
        layers = [nn.ReLU(inplace=False) if isinstance(m, nn.ReLU) else m for m in layers]
        features = nn.Sequential(*layers).to_empty(device="cpu")
        if weights == "imagenet":
            load_imagenet_features(features, progress=progress, verify_hash=verify_hash)
        else:
            init_like_torchvision(features, seed)
            warnings.warn(
                f"{RANDOM_VGG_LABEL}. weights='random' is for quick runs and tests only: the VGG content loss "
                "is then a distance in the features of an untrained network.",
                RandomVGGWarning,
                stacklevel=2,
            )
        self.features = features
        normalise = VGG19_WEIGHTS.transforms()  # ImageNet mean/std, as torchvision trained this VGG19
        self.register_buffer("mean", torch.tensor(normalise.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(normalise.std).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        super().train(False)

    @property
    def name(self) -> str:
        """The paper's name of the layer, e.g. ``"VGG54"``."""
        return f"VGG{self.i}{self.j}"

    @property
    def out_channels(self) -> int:
        """Channels of the feature map (64, 128, 256 or 512)."""
        return [m for m in self.features if isinstance(m, nn.Conv2d)][-1].out_channels

    @property
    def is_random(self) -> bool:
        """True when the weights are random (not the pretrained VGG19 the paper uses)."""
        return self.weights == "random"

    @property
    def label(self) -> str:
        """One line to show next to every number or figure this extractor produced."""
        return f"{self.name}: {RANDOM_VGG_LABEL if self.is_random else PRETRAINED_VGG_LABEL}"

    def train(self, mode: bool = True) -> VGGFeatures:
        """Stays in eval mode whatever ``mode`` is (a frozen feature extractor, section 2.2.1)."""
        return super().train(False)

    def extra_repr(self) -> str:
        return self.label

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"VGGFeatures expects (N, 3, H, W) images in [-1, 1], got shape {tuple(x.shape)}")
        min_size = 2 ** (self.i - 1)
        if x.shape[-1] < min_size or x.shape[-2] < min_size:
            raise ValueError(f"{self.name} needs images of at least {min_size}x{min_size} ({self.i - 1} "
                             f"max-pools), got {tuple(x.shape[-2:])}")
        x = to_imagenet(x, self.mean, self.std)  # (N, 3, H, W), ImageNet-normalised: the only place
        return self.features(x)  # (N, C, H / 2^(i-1), W / 2^(i-1))


# ---------------------------------------------------------------------------------------------------
# The content-loss rescale by the paper's criterion (section 3.2), for the VGG19 actually loaded
# ---------------------------------------------------------------------------------------------------
def _squared_errors(extractor: nn.Module, sr: torch.Tensor, hr: torch.Tensor,
                    batch_size: int) -> tuple[float, int, float, int]:
    """Sums and counts of squared pixel and feature differences, in chunks (no graph, float64 sums)."""
    if sr.shape != hr.shape:
        raise ValueError(f"SR and HR must have the same shape, got {tuple(sr.shape)} and {tuple(hr.shape)}")
    pix = feat = 0.0
    n_pix = n_feat = 0
    for k in range(0, sr.shape[0], batch_size):
        a, b = sr[k:k + batch_size].float(), hr[k:k + batch_size].float()  # (n, 3, H, W) in [-1, 1]
        fa, fb = extractor(a), extractor(b)  # (n, C, h, w)
        pix += float(((a - b).double() ** 2).sum())
        feat += float(((fa - fb).double() ** 2).sum())
        n_pix, n_feat = n_pix + a.numel(), n_feat + fa.numel()
    return pix, n_pix, feat, n_feat


def _rescale_from(pix: float, n_pix: int, feat: float, n_feat: int) -> float:
    if n_pix == 0:
        raise ValueError("measure_vgg_rescale: no images given")
    if pix == 0 or feat == 0:
        raise ValueError("measure_vgg_rescale: SR and HR are identical (in pixels or in VGG features), so "
                         "no scale can be measured; use the outputs of a generator, not the targets")
    return math.sqrt((pix / n_pix) / (feat / n_feat))


@torch.no_grad()
def measure_vgg_rescale(extractor: nn.Module, sr: torch.Tensor, hr: torch.Tensor, batch_size: int = 16) -> float:
    """The factor on VGG feature maps that puts the VGG content loss on the scale of the pixel MSE.

    Section 3.2 multiplies the VGG features by 1/12.75 "to obtain VGG losses of a scale that is comparable
    to the MSE loss". This applies that criterion to the VGG19 actually loaded: for images ``sr`` (the
    outputs of a trained SRResNet, the paper's starting point for SRGAN) and their targets ``hr``, both
    ``(N, 3, H, W)`` in [-1, 1], it returns ``s`` such that

        mean((s * phi(SR) - s * phi(HR))^2) == mean((SR - HR)^2),

    i.e. ``ContentLoss(rescale=s)(sr, hr) == pixel_mse(sr, hr)``: ``s = sqrt(MSE_pixels / MSE_features)``
    (means over all elements of all images, computed in chunks of ``batch_size``).

    Why measure instead of using 1/12.75 (a stated deviation where a preset uses it): the paper's VGG19 was the
    Caffe release, fed BGR in [0, 255] minus the mean pixel (:data:`CAFFE_MEAN_BGR`); torchvision's is fed
    ``(x - mean) / std`` with x in [0, 1], so Caffe's input is torchvision's times about 58
    (:data:`CAFFE_INPUT_SCALE`). VGG is close to homogeneous in its input (only the biases are not), so the same
    weights would give a content loss about 58^2 = 3,300x smaller on torchvision's input; the two releases were
    trained separately, so this function measures instead of assuming. With 1/12.75 on top, torchvision's VGG54
    loss is far below the pixel MSE and the 1e-3 adversarial term drives the generator almost alone. We read
    "comparable" as equal on the images given; how close 1/12.75 came for the Caffe VGG19 cannot be checked here.

    ``extractor`` is any module ``(N, 3, H, W) in [-1, 1] -> features`` (a :class:`VGGFeatures`; with
    random weights the number is about a random network and must carry its ``label``).
    """
    return _rescale_from(*_squared_errors(extractor, sr, hr, batch_size))


@torch.no_grad()
def vgg_rescale_for(extractor: nn.Module, generator: nn.Module,
                    batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """:func:`measure_vgg_rescale` over ``(lr, hr)`` batches with the generator's own outputs.

    ``lr`` in [0, 1] and ``hr`` in [-1, 1] (as :meth:`~srgan_lib.train.Trainer.batches` gives them), on the generator's
    device. The generator runs in eval mode (BN running statistics, as at test time) without autocast;
    its mode is restored afterwards and nothing in it changes.
    """
    was_training = generator.training
    generator.eval()
    pix = feat = 0.0
    n_pix = n_feat = 0
    try:
        for lr, hr in batches:
            sr = generator(lr).float()  # (N, 3, sH, sW) in [-1, 1]
            p, np_, f, nf = _squared_errors(extractor, sr, hr, batch_size=sr.shape[0])
            pix, n_pix, feat, n_feat = pix + p, n_pix + np_, feat + f, n_feat + nf
    finally:
        generator.train(was_training)
    return _rescale_from(pix, n_pix, feat, n_feat)

