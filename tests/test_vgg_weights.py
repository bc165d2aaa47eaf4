"""Tests of srgan_lib.plumbing.vgg_weights: the pretrained VGG19 through torchvision's API and the torch hub cache.

No network: the pretrained-weights path is exercised with a state_dict file placed in a temporary
torch hub cache, and downloads are replaced by a function that fails.
"""

from __future__ import annotations

import os
import urllib.error
import warnings

import pytest
import torch
import torchvision

from srgan_lib import losses as L
from srgan_lib import vgg as V
from srgan_lib.plumbing import vgg_choice as C
from srgan_lib.plumbing import vgg_weights as W


VGG19_FILE = "vgg19-dcbb9e9d.pth"  # the file name torchvision's VGG19_Weights.IMAGENET1K_V1 uses


pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py



@pytest.fixture
def no_download(monkeypatch):
    """Any download attempt fails as it would offline (and is recorded); no real network is touched."""
    calls = []

    def fail(url, dst, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fail)
    return calls


@pytest.fixture
def empty_hub(tmp_path, monkeypatch, no_download):
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # restored afterwards by monkeypatch
    torch.hub.set_dir(str(tmp_path / "hub"))
    return tmp_path / "hub"

# --------------------------------------------------------------------------------------------------
# Pretrained weights through torchvision's API and the torch hub cache, offline
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cached_vgg19_file(tmp_path_factory):
    """A full VGG19 state_dict (random init) saved where torchvision's cache expects the ImageNet file."""
    home = tmp_path_factory.mktemp("torch_home")
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.manual_seed(1234)
    state = torchvision.models.vgg19().state_dict()
    torch.save(state, checkpoints / VGG19_FILE)
    features = {k: v for k, v in state.items() if k.startswith("features.")}
    del state
    return home, features


@pytest.mark.slow  # writes and reads a full 548 MB VGG19 state_dict
@pytest.mark.parametrize("how", ["set_dir", "TORCH_HOME"])
def test_pretrained_weights_load_from_the_hub_cache(cached_vgg19_file, monkeypatch, no_download, how):
    home, features = cached_vgg19_file
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    if how == "set_dir":
        torch.hub.set_dir(str(home / "hub"))
    else:
        monkeypatch.setenv("TORCH_HOME", str(home))
    assert W.vgg19_cache_path() == str(home / "hub" / "checkpoints" / VGG19_FILE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", W.RandomVGGWarning)  # the pretrained path must not warn
        vgg = V.VGGFeatures(5, 4, weights="imagenet", progress=False)
    assert no_download == []
    assert not vgg.is_random and "ImageNet-pretrained" in vgg.label and "RANDOM" not in vgg.label
    state = vgg.features.state_dict()
    assert len(state) == 32  # 16 convs x (weight, bias) up to relu5_4
    for key, value in state.items():
        assert torch.equal(value, features[f"features.{key}"]), key
    assert all(not p.requires_grad for p in vgg.parameters())


def test_missing_weights_offline_raise_a_clear_error(empty_hub, no_download, monkeypatch):
    from srgan_lib.plumbing import download

    monkeypatch.setattr(download, "is_online", lambda *a, **k: True)  # the host answers, the download fails
    with pytest.raises(W.VGGWeightsUnavailable) as err:
        V.VGGFeatures(layer="VGG54", progress=False)  # default: weights="imagenet"
    message = str(err.value)
    path = str(empty_hub / "checkpoints" / VGG19_FILE)
    assert isinstance(err.value, RuntimeError)
    assert path in message and "not in the torch hub cache" in message
    assert "internet" in message and "Colab" in message and 'weights="random"' in message
    assert isinstance(err.value.__cause__, urllib.error.URLError)
    assert len(no_download) == 1 and no_download[0].endswith(VGG19_FILE)
    assert not os.path.exists(path)
    with pytest.raises(W.VGGWeightsUnavailable):
        L.ContentLoss("VGG22", progress=False)  # the content loss has the same default


def test_offline_fails_at_once_with_a_complete_first_line(empty_hub, no_download, monkeypatch, capfd):
    """Offline, no download is attempted (torch.hub would print "Downloading: ..." to stderr first), and the
    message's first line, which notebooks print alone, is a whole sentence naming the cause."""
    from srgan_lib.plumbing import download

    monkeypatch.setattr(download, "is_online", lambda *a, **k: False)
    with pytest.raises(W.VGGWeightsUnavailable) as err:
        V.VGGFeatures(layer="VGG54", progress=False)
    first = str(err.value).splitlines()[0]
    assert first.endswith(").") and "could not be downloaded (ConnectionError: no connection to" in first
    assert no_download == [] and capfd.readouterr().err == ""


def test_corrupt_cached_file_error_names_the_file(empty_hub):
    path = empty_hub / "checkpoints" / VGG19_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a state_dict")
    with pytest.raises(W.VGGWeightsUnavailable, match=VGG19_FILE) as err:
        V.VGGFeatures(layer="VGG22", progress=False)
    assert str(path) in str(err.value)


def test_cached_file_hash_check(tmp_path):
    import hashlib

    payload = b"pretend weights"
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    good = tmp_path / f"vgg19-{prefix}.pth"
    good.write_bytes(payload)
    W.verify_file_hash(str(good))
    bad = tmp_path / "vgg19-dcbb9e9d.pth"
    bad.write_bytes(payload)
    with pytest.raises(W.VGGWeightsUnavailable, match="vgg19-dcbb9e9d.pth"):
        W.verify_file_hash(str(bad))



# --------------------------------------------------------------------------------------------------
# content_vgg: the pretrained VGG19 of a content loss, or the labelled random one where that is honest
# --------------------------------------------------------------------------------------------------
def test_content_vgg_offline_falls_back_only_for_mse_or_when_allowed(empty_hub, no_download, monkeypatch):
    from srgan_lib.plumbing import download

    monkeypatch.setattr(download, "is_online", lambda *a, **k: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", W.RandomVGGWarning)  # the caller labels it; no warning on top
        got = C.content_vgg("mse", seed=3, progress=False)  # SRGAN-MSE uses no VGG: the fallback is honest
        allowed = C.content_vgg("vgg22", layer="VGG22", allow_random=True, seed=3, progress=False)
    assert got.weights == "random" and got.vgg.is_random and got.vgg.name == "VGG54"
    assert "RANDOM" in got.vgg.label and got.reason == str(_offline_error()).splitlines()[0]
    assert allowed.weights == "random" and allowed.vgg.name == "VGG22" and allowed.reason == got.reason
    with pytest.warns(W.RandomVGGWarning):
        oracle = V.VGGFeatures(layer="VGG22", weights="random", seed=3)  # the same seed: the same weights
    for key, value in oracle.features.state_dict().items():
        assert torch.equal(allowed.vgg.features.state_dict()[key], value), key
    for content in ("vgg54", "VGG22"):
        with pytest.raises(W.VGGRequired, match=rf"^STOP: CONTENT={content!r} needs the ImageNet-pretrained") as err:
            C.content_vgg(content, progress=False)
        assert isinstance(err.value, W.VGGWeightsUnavailable) and err.value.__cause__ is None
        message = str(err.value)
        assert "no connection to" in message and "CONTENT = 'mse'" in message and "Colab" in message
        assert ".)." not in message  # the reason's own full stop is not doubled
    assert no_download == []


def _offline_error() -> W.VGGWeightsUnavailable:
    with pytest.raises(W.VGGWeightsUnavailable) as err:
        V.VGGFeatures(layer="VGG54", progress=False)
    return err.value


def test_content_vgg_random_on_request_and_pretrained_when_cached(empty_hub, no_download, monkeypatch):
    monkeypatch.setattr(W, "load_vgg19_state_dict", lambda **k: pytest.fail("weights='random' must not load"))
    got = C.content_vgg("vgg54", weights="random", seed=0)  # asked for: no download, no reason
    assert (got.weights, got.reason, got.vgg.is_random) == ("random", None, True)
    state = torchvision.models.vgg19().state_dict()  # a stand-in for the ImageNet file, loaded from "the cache"
    monkeypatch.setattr(W, "load_vgg19_state_dict", lambda **k: state)
    got = C.content_vgg("vgg54", progress=False)
    assert (got.weights, got.reason, got.vgg.is_random) == ("imagenet", None, False)
    assert torch.equal(got.vgg.features[0].weight, state["features.0.weight"])
    with pytest.raises(ValueError, match="imagenet"):
        C.content_vgg("mse", weights="pretrained")
