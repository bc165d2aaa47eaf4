"""Fixtures shared by several test modules: closing figures (test_viz, test_widgets, test_figures,
test_loss_figures, test_result_figures) a folder of small image files and a patch-for-patch comparison
(test_data, test_train_data)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture
def close_figures():
    """Every test's figures are closed after it (pyplot keeps them alive otherwise). The figure test modules
    use it for all their tests (``pytestmark = pytest.mark.usefixtures("close_figures")``)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _random_rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A random ``(h, w, 3)`` uint8 image, a function of ``seed``."""
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _write_image_folder(root: Path) -> list[np.ndarray]:
    (root / "sub" / "deeper").mkdir(parents=True)
    imgs = [_random_rgb(60, 80, 10), _random_rgb(72, 64, 11), _random_rgb(64, 100, 12)]
    Image.fromarray(imgs[0]).save(root / "a.png")
    Image.fromarray(imgs[1][..., 0]).save(root / "sub" / "b.png")  # grayscale file
    Image.fromarray(np.dstack([imgs[2], np.full((64, 100), 255, np.uint8)])).save(root / "sub" / "deeper" / "c.png")
    (root / "sub" / "notes.txt").write_text("ignored")
    return [imgs[0], np.dstack([imgs[1][..., 0]] * 3), imgs[2]]


@pytest.fixture
def make_image_folder() -> Callable[[Path], list[np.ndarray]]:
    """``make_image_folder(root)`` writes three images below ``root`` (RGB, grayscale, RGBA, in nested folders, plus
    a text file to ignore) and returns them as the RGB arrays a reader should give, in sorted-path order."""
    return _write_image_folder


def _same_patches(a, b, n: int = 40) -> None:
    for i in range(n):
        (la, ha), (lb, hb) = a[i], b[i]
        assert torch.equal(ha, hb) and torch.equal(la, lb), i
    ia, ib = list(range(100, 116)), list(range(100, 116))
    assert all(torch.equal(x, y) for x, y in zip(a.batch(ia), b.batch(ib)))


@pytest.fixture
def same_patches() -> Callable[..., None]:
    """``same_patches(a, b, n=40)`` asserts that two :class:`~srgan_lib.data.PatchDataset` give identical pairs:
    items ``0 .. n-1`` one by one and a batch of items 100-115."""
    return _same_patches


@pytest.fixture
def refuse_writes_in(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """``refuse_writes_in(folder)``: from now on the OS refuses new files in ``folder`` (PermissionError from
    ``tempfile.mkstemp``, the call that creates an atomic write's temporary file), as it does for a read-only folder,
    even to root on a root-squashed share. Unlike a ``chmod``, this holds when the tests run as root (CI)."""
    import errno
    import os
    import tempfile

    refused: list[Path] = []
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # noqa: A002 - mkstemp's own keyword
        if dir is not None and Path(dir) in refused:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    return refused.append
