"""Tests for srgan_lib.plumbing.samples: the bundled pictures equal scikit-image's, with and without the repository."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from srgan_lib.plumbing import samples
from srgan_lib.plumbing.files import read_rgb
from srgan_lib.plumbing.samples import SAMPLE_NAMES, load_sample, sample_path


pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_samples_equal_scikit_image(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import skimage.data

    assert (samples.SAMPLES_DIR / f"{name}.png").is_file(), "data/samples is part of the repository"
    repo = load_sample(name)
    ref = np.asarray(getattr(skimage.data, name)())
    if ref.ndim == 2:
        ref = np.repeat(ref[..., None], 3, axis=2)
    assert repo.dtype == np.uint8 and repo.shape == ref.shape and repo.shape[2] == 3
    assert np.array_equal(repo, ref)
    # without the repository (a pip install): straight from scikit-image, same pixels, and a real file
    monkeypatch.setattr(samples, "SAMPLES_DIR", Path("/nonexistent"))
    assert np.array_equal(load_sample(name), repo)
    assert np.array_equal(read_rgb(sample_path(name)), repo)


def test_sample_names() -> None:
    assert set(samples.TRAINING_SAMPLES) | set(samples.HELD_OUT_SAMPLES) == set(SAMPLE_NAMES)
    assert not set(samples.TRAINING_SAMPLES) & set(samples.HELD_OUT_SAMPLES)
    assert sample_path("astronaut").name == "astronaut.png"
    with pytest.raises(ValueError, match="unknown sample 'lena'"):
        load_sample("lena")
