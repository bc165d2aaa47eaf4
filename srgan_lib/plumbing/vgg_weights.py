"""Plumbing, not part of the lesson: the ImageNet weights of the VGG19 of section 2.2.1, fetched and cached.

:mod:`srgan_lib.vgg` builds the feature network phi_{i,j}; this module gives it its weights.

Weights of VGG19 (torchvision ``VGG19_Weights.IMAGENET1K_V1``, file ``vgg19-dcbb9e9d.pth``):

- They are fetched with torchvision's own weights API, ``VGG19_Weights.IMAGENET1K_V1.get_state_dict``,
  i.e. ``torch.hub.load_state_dict_from_url``: downloaded once (Colab does this automatically) into the
  torch hub cache, ``<torch.hub.get_dir()>/checkpoints/vgg19-dcbb9e9d.pth`` (``$TORCH_HOME/hub/...``,
  by default ``~/.cache/torch/hub/checkpoints``), and read from there afterwards. We load with
  ``weights_only=True``: ``torchvision.models.vgg19(weights=...)`` itself calls ``get_state_dict``
  without it, which would unpickle arbitrary objects (CONTRIBUTING: never unpickle untrusted files).
- Hash check (found by reading torch.hub): ``check_hash=True`` compares the SHA-256 of the file with
  the ``dcbb9e9d`` in its name *only while downloading*; a file already in the cache is loaded without
  any check. Pass ``verify_hash=True`` to :class:`srgan_lib.vgg.VGGFeatures` to hash the cached file too
  (:func:`verify_file_hash`, a second or two for the 548 MB file).
- Offline and not cached: :class:`VGGWeightsUnavailable` says where the file must go and how to get it.
- ``weights="random"`` is an explicit opt-in for quick runs and tests: an untrained VGG19 (torchvision's
  own initialisation, seeded). It warns (:class:`RandomVGGWarning`) and every object built on it carries
  ``is_random`` and a ``label`` that says so, to be shown next to any number or figure it produced.
"""

from __future__ import annotations

import hashlib
import http.client
import os
from urllib.parse import urlsplit

import torch
from torch import nn
from torchvision.models import VGG19_Weights

from . import download

VGG19_WEIGHTS = VGG19_Weights.IMAGENET1K_V1  # torchvision's weights enum for the ImageNet VGG19
RANDOM_VGG_LABEL = "VGG19 with RANDOM weights (not pretrained): results are NOT the paper's"
PRETRAINED_VGG_LABEL = "VGG19 ImageNet-pretrained (torchvision VGG19_Weights.IMAGENET1K_V1)"


class VGGWeightsUnavailable(RuntimeError):
    """The pretrained VGG19 weights are neither in the torch hub cache nor downloadable (or are corrupt)."""


class VGGRequired(VGGWeightsUnavailable):
    """A VGG content loss was asked for, the pretrained VGG19 is unavailable, and random weights were not allowed.

    Raised by :func:`srgan_lib.plumbing.vgg_choice.content_vgg`; its message says what to do (first line complete on
    its own).
    """


class RandomVGGWarning(UserWarning):
    """Issued whenever a VGG19 with random (not pretrained) weights is built."""


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
        if not download.is_online(VGG19_WEIGHTS.url):
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


def load_imagenet_features(features: nn.Sequential, *, progress: bool = True, verify_hash: bool = False) -> None:
    """Fill a (possibly truncated) copy of ``vgg19().features`` with the ImageNet weights, in place.

    Raises :class:`VGGWeightsUnavailable` naming the cached file when it holds no VGG19 state_dict.
    """
    state = load_vgg19_state_dict(progress=progress, verify_hash=verify_hash)
    wanted = {k: state.get(f"features.{k}") for k in features.state_dict()}
    missing = [f"features.{k}" for k, v in wanted.items() if v is None]
    if missing:
        raise VGGWeightsUnavailable(f"{vgg19_cache_path()}: not a VGG19 state_dict, missing {missing[:4]}")
    try:
        features.load_state_dict(wanted, strict=True)
    except RuntimeError as exc:
        raise VGGWeightsUnavailable(f"{vgg19_cache_path()}: not a VGG19 state_dict ({exc})") from exc


@torch.no_grad()
def init_like_torchvision(features: nn.Sequential, seed: int) -> None:
    """torchvision's VGG initialisation of the conv layers (``VGG.__init__``), with a seeded generator."""
    gen = torch.Generator().manual_seed(seed)
    for m in features:
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=gen)
            nn.init.zeros_(m.bias)

