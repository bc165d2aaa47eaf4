"""Fixtures shared by the figure tests (test_viz, test_widgets, test_figures, test_loss_figures)."""

from __future__ import annotations

import pytest


@pytest.fixture
def close_figures():
    """Every test's figures are closed after it (pyplot keeps them alive otherwise). The figure test modules
    use it for all their tests (``pytestmark = pytest.mark.usefixtures("close_figures")``)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
