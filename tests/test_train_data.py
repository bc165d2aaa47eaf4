"""Tests for srgan_lib.plumbing.train_data: which images a run trains on (a folder, $SRGAN_TRAIN_DATA, DIV2K found or
downloaded, or the bundled samples with a warning). The network is never used: downloads are stubbed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_lib.plumbing import train_data
from srgan_lib.data import PatchDataset
from srgan_lib.plumbing.files import find_images
from srgan_lib.plumbing.samples import TRAINING_SAMPLES, load_sample


@pytest.fixture()
def no_network(monkeypatch):
    """Any network use by srgan_lib.plumbing.download fails the test."""
    from srgan_lib.plumbing import download as dl

    monkeypatch.setattr(dl, "is_online", lambda *a, **k: pytest.fail("is_online called"))
    monkeypatch.setattr(dl, "download", lambda *a, **k: pytest.fail("download called"))
    monkeypatch.delenv(train_data.TRAIN_ENV, raising=False)
    return dl


def test_training_images_from_a_folder_or_the_environment(make_image_folder, same_patches, tmp_path: Path,
                                                         monkeypatch, no_network) -> None:
    make_image_folder(tmp_path / "mine")
    got = train_data.training_images(tmp_path / "mine")
    assert not got.toy and got.folder == tmp_path / "mine" and list(got.paths) == find_images(tmp_path / "mine")
    assert "3 training images" in got.source and "(given)" in got.source
    monkeypatch.setenv(train_data.TRAIN_ENV, str(tmp_path / "mine"))
    env = train_data.training_images(download=False)
    assert env.paths == got.paths and "$SRGAN_TRAIN_DATA" in env.source
    assert env.summary == "3 training images from mine ($SRGAN_TRAIN_DATA)" and str(tmp_path) not in env.summary
    ds = env.patch_dataset(crop=32, seed=0)
    same_patches(ds, PatchDataset.from_folder(tmp_path / "mine", crop=32, seed=0), n=5)
    monkeypatch.setenv(train_data.TRAIN_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="nowhere: not a folder"):
        train_data.training_images()


def test_training_images_offline_falls_back_to_the_samples_with_a_warning(tmp_path: Path, no_network) -> None:
    with pytest.warns(train_data.ToyDataWarning, match=r"no DIV2K \(download=False\).*toy-sized"):
        got = train_data.training_images(download=False, root=tmp_path)
    assert got.toy and got.folder is None
    assert [p.stem for p in got.paths] == list(TRAINING_SAMPLES)
    assert "toy" in got.source and "chelsea" in got.source and got.summary == got.source
    ds = got.patch_dataset(crop=96)
    assert not ds.store.prepared and [im.shape for im in ds.images] == [load_sample(n).shape for n in TRAINING_SAMPLES]


def test_training_images_finds_or_downloads_div2k(tmp_path: Path, monkeypatch) -> None:
    import dataclasses

    from srgan_lib.plumbing import download as dl

    monkeypatch.delenv(train_data.TRAIN_ENV, raising=False)
    monkeypatch.setitem(dl.REGISTRY, "DIV2K-train", dataclasses.replace(dl.REGISTRY["DIV2K-train"], image_count=3))
    calls = []

    def fake_download(name, root=None, **kw):  # stands in for the 3.5 GB download (tested in test_download.py)
        calls.append((name, root))
        folder = Path(root) / "DIV2K-train"
        folder.mkdir()
        for k in range(3):  # a flat folder, as the real download installs
            img = np.random.default_rng(k).integers(0, 256, (40, 50, 3), dtype=np.uint8)
            Image.fromarray(img).save(folder / f"{k + 1:04d}.png")
        return folder

    monkeypatch.setattr(dl, "download", fake_download)
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: pytest.fail("probed in a quick run"))
    with pytest.warns(train_data.ToyDataWarning, match="quick run"):  # conftest sets SRGAN_QUICK=1
        assert train_data.training_images(root=tmp_path).toy
    monkeypatch.setenv("SRGAN_QUICK", "0")
    # offline (the probe says so): bundled samples, and the warning says why
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: False)
    with pytest.warns(train_data.ToyDataWarning, match="offline"):
        assert train_data.training_images(root=tmp_path).toy
    assert calls == []
    # online: downloaded once into the root ...
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: True)
    got = train_data.training_images(root=tmp_path)
    assert not got.toy and got.folder == tmp_path / "DIV2K-train" and len(got) == 3 and "DIV2K" in got.source
    assert calls == [("DIV2K-train", tmp_path)]
    # ... and found there afterwards without the network, even with download=False
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: pytest.fail("probed although DIV2K is present"))
    assert train_data.training_images(root=tmp_path, download=False).paths == got.paths and len(calls) == 1


def test_training_images_failed_download(tmp_path: Path, monkeypatch) -> None:
    from srgan_lib.plumbing import download as dl

    monkeypatch.delenv(train_data.TRAIN_ENV, raising=False)

    def broken(name, root=None, **kw):
        raise dl.DownloadError("could not download DIV2K_train_HR.zip\nmore")

    monkeypatch.setattr(dl, "download", broken)
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: True)
    monkeypatch.setenv("SRGAN_QUICK", "0")
    with pytest.warns(train_data.ToyDataWarning, match="the DIV2K download failed: could not download"):
        assert train_data.training_images(root=tmp_path).toy  # automatic: falls back
    with pytest.raises(dl.DownloadError, match="could not download"):
        train_data.training_images(root=tmp_path, download=True)  # asked for: raises


def test_require_training_images_refuses_toy_data_and_failed_downloads(make_image_folder, tmp_path: Path,
                                                                       monkeypatch) -> None:
    import warnings

    from srgan_lib.plumbing import download as dl

    monkeypatch.delenv(train_data.TRAIN_ENV, raising=False)
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: pytest.fail("is_online called"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", train_data.ToyDataWarning)  # the summary says it; no warning on top
        toy = train_data.require_training_images(download=False, root=tmp_path)  # a cpu run: the toy is fine
    with pytest.warns(train_data.ToyDataWarning):
        assert toy.toy and toy.paths == train_data.training_images(download=False, root=tmp_path).paths
    with pytest.raises(train_data.NoTrainingData, match=r"^STOP: the colab preset .* no training data was found "
                                                        r"\(no training folder given.*TRAIN_DATA a folder"):
        train_data.require_training_images(download=False, root=tmp_path, refuse_toy=True, run="the colab preset")
    make_image_folder(tmp_path / "mine")
    real = train_data.require_training_images(tmp_path / "mine", refuse_toy=True)
    assert not real.toy and len(real) == 3

    def broken(name, root=None, **kw):
        raise dl.DownloadError("could not download DIV2K_train_HR.zip\nmore")

    monkeypatch.setattr(dl, "download", broken)
    with pytest.raises(train_data.NoTrainingData, match=r"^STOP: the DIV2K download failed \(could not download "
                                                        r"DIV2K_train_HR.zip\)\. Run again") as err:
        train_data.require_training_images(root=tmp_path, download=True)
    assert "more" not in str(err.value) and err.value.__cause__ is None
