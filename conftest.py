"""pytest configuration for the unit tests (tests/) and the notebooks (nbval), at the repository root.

- ``SRGAN_QUICK=1`` unless already set: unit tests and every notebook kernel (a kernel inherits
  pytest's environment) take the quick run, which shrinks sizes and step counts but never skips a
  code path. ``SRGAN_QUICK=0 pytest ...`` tests the real run instead.
- MPLBACKEND is deliberately left alone: kernels pick the inline backend themselves, and setting
  ``Agg`` here would be inherited by them and drop every figure from the notebooks' outputs.
- Fixture ``shared_datasets``: the maintainers' benchmark images in ``../shared/datasets`` (Set5,
  Set14, BSD100, ...). Tests that use it are marked ``shared`` and skip with a reason where the
  folder is absent (a user's clone, Colab).
- Hypothesis: no per-example deadline (2 shared CPU cores make timings meaningless).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("SRGAN_QUICK", "1")

SHARED_SKIP_REASON = (
    "../shared/datasets not found: maintainers' benchmark images exist only in the project workplace"
)

try:
    from hypothesis import settings

    settings.register_profile("srgan", deadline=None)
    settings.load_profile("srgan")
except ImportError:  # hypothesis is a dev dependency; without it only the tests that use it fail
    pass


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """Path of ``../shared/datasets`` (:func:`srgan_lib.plumbing.download.repository_datasets`, also searched by the
    library's dataset lookup); skips the test (with the reason) where it does not exist."""
    from srgan_lib.plumbing.download import repository_datasets

    shared = repository_datasets()
    if shared is None:
        pytest.skip(SHARED_SKIP_REASON)
    return shared


@pytest.fixture(scope="session")
def selfexsr_datasets(shared_datasets: Path) -> Path:
    """``shared_datasets``, checked to also hold ``SelfExSR_x4_LR/`` (SelfExSR's published LR images and
    per-image bicubic table, the oracles of the resize and metric tests); skips with the reason otherwise."""
    if not (shared_datasets / "SelfExSR_x4_LR").is_dir():
        pytest.skip(f"{shared_datasets / 'SelfExSR_x4_LR'} not found: SelfExSR's published LR images are needed")
    return shared_datasets


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses ``shared_datasets`` as ``shared`` (select with ``-m shared``)."""
    for item in items:
        if {"shared_datasets", "selfexsr_datasets"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.shared)


@pytest.fixture()
def one_thread():
    """Run a test with one torch thread. Unit tests use tiny tensors, where one thread is faster, and on a
    busy 2-core machine two OpenMP threads that spin-wait for each other were measured 20x slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
