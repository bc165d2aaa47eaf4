"""The losses of SRGAN (paper section 2.2): pixel MSE, VGG content loss, TV, adversarial, perceptual.

    l_SR = l_X + 1e-3 * l_Gen                                   perceptual loss, equation (3)

- ``l_X`` (content): :func:`pixel_mse` (equation 4) or :class:`ContentLoss`, the VGG loss phi_{i,j}
  (equation 5, section 2.2.1), optionally with the total-variation regulariser :func:`tv_loss` that the
  paper adds to its VGG22 variants.
- ``l_Gen`` (adversarial, section 2.2.2): :func:`generator_adversarial_loss`; the discriminator is trained
  with :func:`discriminator_loss`. Both take the discriminator's *logits*
  (:class:`srgan_lib.models.Discriminator` has no sigmoid): the sigmoid of Figure 4 lives inside the
  losses, written with ``softplus`` so that it never takes ``log(0)``.
- :class:`PerceptualLoss` puts the terms together and returns every part (:class:`LossParts`).
- Their balance: :func:`measure_vgg_rescale` / :func:`vgg_rescale_for` measure the VGG feature factor by
  the paper's own criterion (section 3.2: VGG loss "comparable to the MSE loss") for the VGG19 actually
  loaded, since 1/12.75 was tuned for the Caffe VGG19, not torchvision's; :func:`gradient_shares` reports
  how hard the content and the 1e-3-weighted adversarial terms pull on the SR image.

Value ranges (section 3.2): SR and HR images enter every loss here in [-1, 1]. The VGG extractor maps
them to ImageNet normalisation itself (:func:`to_imagenet`), exactly once, so callers cannot forget it
or do it twice.

Reductions. Every loss is a mean over the batch. The paper writes ``l_Gen`` as a *sum* over the N
training samples (equation 6) and ``l_X`` per image, so read literally the adversarial term would grow
with the batch size. Using the per-image mean for both keeps the ratio the paper means: 1e-3 is the
weight of one image's adversarial loss against the same image's content loss, whatever the batch size.
(Using the sum for ``l_Gen`` and a mean for ``l_X`` would make the effective weight ``1e-3 * N``, i.e.
1.6e-2 at the paper's N = 16.) A common factor on the *whole* loss hardly matters with Adam, which is
invariant to a constant rescaling of the gradient (up to its epsilon).

Weights of VGG19 (torchvision ``VGG19_Weights.IMAGENET1K_V1``, file ``vgg19-dcbb9e9d.pth``):

- They are fetched with torchvision's own weights API, ``VGG19_Weights.IMAGENET1K_V1.get_state_dict``,
  i.e. ``torch.hub.load_state_dict_from_url``: downloaded once (Colab does this automatically) into the
  torch hub cache, ``<torch.hub.get_dir()>/checkpoints/vgg19-dcbb9e9d.pth`` (``$TORCH_HOME/hub/...``,
  by default ``~/.cache/torch/hub/checkpoints``), and read from there afterwards. We load with
  ``weights_only=True``: ``torchvision.models.vgg19(weights=...)`` itself calls ``get_state_dict``
  without it, which would unpickle arbitrary objects (CONTRIBUTING: never unpickle untrusted files).
- Hash check (found by reading torch.hub): ``check_hash=True`` compares the SHA-256 of the file with
  the ``dcbb9e9d`` in its name *only while downloading*; a file already in the cache is loaded without
  any check. Pass ``verify_hash=True`` to :class:`VGGFeatures` to hash the cached file too
  (:func:`verify_file_hash`, a second or two for the 548 MB file).
- Offline and not cached: :class:`VGGWeightsUnavailable` says where the file must go and how to get it.
- ``weights="random"`` is an explicit opt-in for quick runs and tests: an untrained VGG19 (torchvision's
  own initialisation, seeded). It warns (:class:`RandomVGGWarning`) and every object built on it carries
  ``is_random`` and a ``label`` that says so, to be shown next to any number or figure it produced.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import math
import os
import re
import warnings
from dataclasses import dataclass
from typing import Iterable, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import VGG19_Weights, vgg19

# ---------------------------------------------------------------------------------------------------
# Paper constants (Ledig et al. 2017), each in one place with its source.
# ---------------------------------------------------------------------------------------------------
ADVERSARIAL_WEIGHT = 1e-3  # weight of l_Gen in l_SR = l_X + 1e-3 l_Gen, section 2.2, equation (3)
VGG_RESCALE = 1.0 / 12.75  # VGG feature maps are multiplied by this, section 3.2
TV_WEIGHT = 2e-8  # total-variation regulariser of the VGG22 variants (SRResNet-VGG22, Table 1)
DEFAULT_PHI = (5, 4)  # SRGAN uses phi_{5,4} ("VGG54"), section 2.2.1 and Table 1

# Why 1/12.75: section 3.2 rescales the VGG feature maps "by a factor of 1/12.75 to obtain VGG losses of
# a scale that is comparable to the MSE loss", which it calls equivalent to multiplying the loss by about
# 0.006. The loss is a squared distance, so scaling the features by 1/12.75 scales the loss by
# 1/12.75^2 = 0.00615. Post-ReLU VGG activations are orders of magnitude larger than pixel differences
# in [-1, 1], so without the factor the content term would swamp the 1e-3 adversarial term.
# The constant was tuned for the authors' VGG19, the Caffe model, not for torchvision's: see
# measure_vgg_rescale below for why that matters and for the factor measured by the paper's own criterion.

VGG19_WEIGHTS = VGG19_Weights.IMAGENET1K_V1  # torchvision's weights enum for the ImageNet VGG19
#: Caffe's VGG19 input divided by torchvision's, per channel (R, G, B): Caffe feeds ``255 x - mean_BGR``
#: (x in [0, 1], mean in [0, 255]), torchvision ``(x - mean) / std``; the means agree to 0.5 of 255, so
#: Caffe's input is torchvision's times ``255 * std`` = (58.4, 57.1, 57.4), about 57.6 on average.
CAFFE_INPUT_SCALE = tuple(255.0 * s for s in VGG19_WEIGHTS.transforms().std)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # the mean the Caffe VGG19 release subtracts, in [0, 255]
ADVERSARIAL_KINDS = ("non_saturating", "saturating")
RANDOM_VGG_LABEL = "VGG19 with RANDOM weights (not pretrained): results are NOT the paper's"
PRETRAINED_VGG_LABEL = "VGG19 ImageNet-pretrained (torchvision VGG19_Weights.IMAGENET1K_V1)"


class VGGWeightsUnavailable(RuntimeError):
    """The pretrained VGG19 weights are neither in the torch hub cache nor downloadable (or are corrupt)."""


class RandomVGGWarning(UserWarning):
    """Issued whenever a VGG19 with random (not pretrained) weights is built."""


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
    """VGG19's feature layers as torchvision orders them, with the paper's phi_{i,j} names.

    phi_{i,j} is "the feature map obtained by the j-th convolution (after activation) before the i-th
    maxpooling layer" (section 2.2.1): the output of the ReLU after conv{i}_{j}.
    """
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
# Weights
# ---------------------------------------------------------------------------------------------------
def vgg19_cache_path() -> str:
    """Where torchvision keeps (or will download) the ImageNet VGG19 weights: the torch hub cache."""
    filename = os.path.basename(VGG19_WEIGHTS.url)  # vgg19-dcbb9e9d.pth
    return os.path.join(torch.hub.get_dir(), "checkpoints", filename)


def verify_file_hash(path: str) -> None:
    """Check that the SHA-256 of ``path`` starts with the hex digits in its name (``name-<hash>.ext``).

    This is the check torch.hub makes with ``check_hash=True``, but only at download time.
    """
    m = torch.hub.HASH_REGEX.search(os.path.basename(path))
    if m is None or not m.group(1):
        raise ValueError(f"{path}: the file name carries no hash (expected name-<sha256 prefix>.ext)")
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha.update(chunk)
    digest = sha.hexdigest()
    if not digest.startswith(m.group(1)):
        raise VGGWeightsUnavailable(
            f"{path}: SHA-256 {digest[:16]}... does not start with {m.group(1)!r} as its name says; the file is "
            "corrupt or not the original. Delete it and download it again."
        )


def _unavailable_message(path: str, cause: BaseException) -> str:
    """The offline error: its first line is complete on its own (notebooks print just that line)."""
    return (
        "The pretrained VGG19 weights are not in the torch hub cache and could not be downloaded "
        f"({type(cause).__name__}: {cause}).\n"
        f"    expected at: {path}\n"
        "To get them, either run this once on a machine with internet access (torchvision downloads them "
        f"to that path, 548 MB), or copy {os.path.basename(path)} (from {VGG19_WEIGHTS.url}) to that path "
        "(set TORCH_HOME or call torch.hub.set_dir to use another cache folder). "
        "On Google Colab they are downloaded automatically.\n"
        'For quick runs and tests only, weights="random" builds an untrained VGG19: it runs, but its '
        "losses and figures are NOT the paper's."
    )


def load_vgg19_state_dict(progress: bool = True, verify_hash: bool = False) -> dict[str, torch.Tensor]:
    """The ImageNet VGG19 state_dict through torchvision's weights API and the torch hub cache.

    Downloads it when it is not cached (``check_hash=True``: the hash is verified on download), and
    always loads with ``weights_only=True``. Raises :class:`VGGWeightsUnavailable` when the file is
    neither cached nor downloadable, or when the cached file cannot be read (naming the file).
    """
    path = vgg19_cache_path()
    cached = os.path.exists(path)
    if cached and verify_hash:
        verify_file_hash(path)
    if not cached:  # offline: say so at once, without torch.hub's "Downloading: ..." line on stderr first
        from urllib.parse import urlsplit

        from .download import is_online

        if not is_online(VGG19_WEIGHTS.url):
            cause = ConnectionError(f"no connection to {urlsplit(VGG19_WEIGHTS.url).netloc}")
            raise VGGWeightsUnavailable(_unavailable_message(path, cause)) from cause
    try:
        return VGG19_WEIGHTS.get_state_dict(progress=progress, check_hash=True, weights_only=True,
                                            map_location="cpu")
    except (OSError, RuntimeError, http.client.HTTPException) as exc:  # URLError is an OSError
        if not cached:
            raise VGGWeightsUnavailable(_unavailable_message(path, exc)) from exc
        raise VGGWeightsUnavailable(
            f"{path}: the cached VGG19 weights could not be loaded ({type(exc).__name__}: {exc}). "
            "Delete the file and run again with internet access, or copy a good copy of "
            f"{os.path.basename(path)} there."
        ) from exc
    except Exception as exc:  # e.g. an UnpicklingError from weights_only=True on a file that is no state_dict
        if not cached:
            raise
        raise VGGWeightsUnavailable(
            f"{path}: the cached file is not a plain VGG19 state_dict ({type(exc).__name__}: {exc}). "
            "Delete it and download it again."
        ) from exc


@torch.no_grad()
def _init_like_torchvision(features: nn.Sequential, seed: int) -> None:
    """torchvision's VGG initialisation of the conv layers (``VGG.__init__``), with a seeded generator."""
    gen = torch.Generator().manual_seed(seed)
    for m in features:
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=gen)
            nn.init.zeros_(m.bias)


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
        weights: ``"imagenet"`` (the paper's choice; see the module docstring for how they are fetched)
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
            state = load_vgg19_state_dict(progress=progress, verify_hash=verify_hash)
            wanted = {k: state.get(f"features.{k}") for k in features.state_dict()}
            missing = [f"features.{k}" for k, v in wanted.items() if v is None]
            if missing:
                raise VGGWeightsUnavailable(f"{vgg19_cache_path()}: not a VGG19 state_dict, missing {missing[:4]}")
            try:
                features.load_state_dict(wanted, strict=True)
            except RuntimeError as exc:
                raise VGGWeightsUnavailable(f"{vgg19_cache_path()}: not a VGG19 state_dict ({exc})") from exc
            del state
        else:
            _init_like_torchvision(features, seed)
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
    (section 3.2; see :data:`VGG_RESCALE` and :func:`measure_vgg_rescale`), so the loss is
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
    """The discriminator's binary cross-entropy: real -> 1, generated -> 0 (equation 2, maximised by D).

    ``-mean(log D(I_HR)) - mean(log(1 - D(G(I_LR))))`` with ``D = sigmoid(logit)``, computed by
    ``binary_cross_entropy_with_logits`` (stable for any logit). Call it with ``D(fake.detach())`` so the
    discriminator step does not reach into the generator. Logits 0 (D = 1/2) give ``2 log 2``.
    """
    real_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real_loss + fake_loss


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
            measured for the VGG19 in use by :func:`measure_vgg_rescale`. Unused for ``"mse"``.

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
# The balance of the terms: the VGG rescale by the paper's criterion, and the gradients on the image
# ---------------------------------------------------------------------------------------------------
def _squared_errors(extractor: nn.Module, sr: torch.Tensor, hr: torch.Tensor,
                    batch_size: int) -> tuple[float, int, float, int]:
    """Sums and counts of squared pixel and feature differences, in chunks (no graph, float64 sums)."""
    _check_pair(sr, hr)
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

    Why measure instead of using 1/12.75 (a stated deviation where a preset uses it): the paper's VGG19
    was the Caffe release, fed BGR in [0, 255] minus the mean pixel (:data:`CAFFE_MEAN_BGR`); torchvision's
    VGG19 is fed ``(x - mean) / std`` with x in [0, 1]. The means agree to half a grey level, so Caffe's
    input is torchvision's times ``255 * std`` (:data:`CAFFE_INPUT_SCALE`: 58.4, 57.1, 57.4 for R, G, B,
    about 255 x 0.226 = 57.6 on average). VGG is close to homogeneous in its input (convolutions, ReLU and
    max-pooling are; only the biases are not), so a network with the same weights would give features
    about 58x smaller on torchvision's input, and a content loss about 58^2 = 3,300x smaller. The two
    releases were trained separately, so their feature scales need not differ by exactly that; this
    function measures instead of assuming. With 1/12.75 on top, torchvision's VGG54 loss is far below
    the pixel MSE and the 1e-3 adversarial term drives the generator almost alone. The paper says
    "comparable", not "equal": this function makes the two equal on the images given, which is our
    reading; how close 1/12.75 came to equality for the Caffe VGG19 we cannot check (no Caffe weights here).

    ``extractor`` is any module ``(N, 3, H, W) in [-1, 1] -> features`` (a :class:`VGGFeatures`; with
    random weights the number is about a random network and must carry its ``label``).
    """
    return _rescale_from(*_squared_errors(extractor, sr, hr, batch_size))


@torch.no_grad()
def vgg_rescale_for(extractor: nn.Module, generator: nn.Module,
                    batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """:func:`measure_vgg_rescale` over ``(lr, hr)`` batches with the generator's own outputs.

    ``lr`` in [0, 1] and ``hr`` in [-1, 1] (as the training engine feeds them), on the generator's
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


def resolve_vgg_rescale(setting: float | str) -> float | None:
    """A ``vgg_rescale`` setting -> the factor: ``"paper"`` -> 1/12.75 (section 3.2), a number (or its
    text) -> that number, ``"auto"`` -> ``None`` (to be measured with :func:`vgg_rescale_for`)."""
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
