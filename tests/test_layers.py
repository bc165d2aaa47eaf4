"""srgan_lib.layers and the generator's shapes (paper Figure 4; ESPCN's sub-pixel convolution).

Oracles: torch's own ``F.pixel_shuffle`` / ``F.pixel_unshuffle`` / ``F.interpolate(mode="nearest")``
and the paper's parameter count.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from srgan_lib.layers import ResidualBlock, SubPixelUpsample, icnr_, pixel_shuffle, pixel_unshuffle
from srgan_lib.models import SRResNet, count_parameters

PAPER_SRRESNET_PARAMETERS = 1_549_462  # Figure 4 with biases, B = 16, 64 channels (reference/srgan-paper.md)

shapes = st.tuples(
    st.integers(1, 3),  # N
    st.integers(1, 3),  # C (output channels)
    st.integers(1, 4),  # r
    st.integers(1, 6),  # H (LR)
    st.integers(1, 6),  # W (LR)
)


def _random(shape: tuple[int, ...], seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


@settings(max_examples=150)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1))
def test_pixel_shuffle_equals_torch(shape, seed):
    n, c, r, h, w = shape
    x = _random((n, c * r * r, h, w), seed)
    y = pixel_shuffle(x, r)
    assert y.shape == (n, c, h * r, w * r)
    assert torch.equal(y, F.pixel_shuffle(x, r))  # bit for bit: a pure rearrangement


@settings(max_examples=150)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1))
def test_pixel_unshuffle_equals_torch_and_round_trips(shape, seed):
    n, c, r, h, w = shape
    hr = _random((n, c, h * r, w * r), seed)
    lr = pixel_unshuffle(hr, r)
    assert lr.shape == (n, c * r * r, h, w)
    assert torch.equal(lr, F.pixel_unshuffle(hr, r))
    assert torch.equal(pixel_shuffle(lr, r), hr)
    assert torch.equal(pixel_unshuffle(pixel_shuffle(lr, r), r), lr)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64, torch.int64, torch.uint8, torch.bool])
def test_pixel_shuffle_any_dtype(dtype):
    x = _random((2, 12, 3, 5), 0).mul(10).to(dtype)
    assert torch.equal(pixel_shuffle(x, 2), F.pixel_shuffle(x, 2))
    assert torch.equal(pixel_unshuffle(pixel_shuffle(x, 2), 2), x)


def test_pixel_shuffle_where_each_value_lands():
    """ESPCN's periodic shuffle: output (c, h*r + i, w*r + j) is input channel c*r^2 + i*r + j at (h, w)."""
    n, c, r, h, w = 1, 2, 3, 2, 4
    x = torch.arange(n * c * r * r * h * w).reshape(n, c * r * r, h, w)
    y = pixel_shuffle(x, r)
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                assert torch.equal(y[0, ch, i::r, j::r], x[0, ch * r * r + i * r + j])


def test_pixel_shuffle_non_contiguous_input():
    x = _random((2, 5, 4, 8), 1).permute(0, 2, 1, 3)  # (2, 4, 5, 8), not contiguous
    assert torch.equal(pixel_shuffle(x, 2), F.pixel_shuffle(x.contiguous(), 2))


@pytest.mark.parametrize("channels, r", [(3, 2), (5, 2), (8, 3), (1, 2), (12, 4)])
def test_pixel_shuffle_rejects_channels_not_divisible_by_r_squared(channels, r):
    x = torch.zeros(1, channels, 4, 4)
    with pytest.raises(ValueError, match=rf"divisible by r\^2 = {r * r}.*{channels} channels"):
        pixel_shuffle(x, r)


@pytest.mark.parametrize("out_channels, r", [(6, 2), (10, 3)])
def test_icnr_rejects_channels_not_divisible_by_r_squared(out_channels, r):
    with pytest.raises(ValueError, match=rf"divisible by r\^2 = {r * r}"):
        icnr_(torch.empty(out_channels, 4, 3, 3), r)


@pytest.mark.parametrize("r", [0, -2])
def test_bad_factor_is_rejected(r):
    with pytest.raises(ValueError, match="positive integer"):
        pixel_shuffle(torch.zeros(1, 4, 2, 2), r)
    with pytest.raises(ValueError, match="divisible by r"):
        pixel_unshuffle(torch.zeros(1, 1, 4, 4), r)


def test_pixel_unshuffle_rejects_sizes_not_divisible_by_r():
    with pytest.raises(ValueError, match=r"divisible by r = 2; got 4x5"):
        pixel_unshuffle(torch.zeros(1, 3, 4, 5), 2)


@pytest.mark.parametrize("c_in, c, r, k", [(4, 3, 2, 3), (2, 1, 3, 3), (3, 2, 4, 1), (5, 2, 2, 5)])
def test_icnr_shuffled_conv_equals_nearest_upsampling_of_sub_kernel_conv(c_in, c, r, k):
    """Aitken et al. 2017: with ICNR, shuffle(conv(x)) == nearest_upsample(conv_with_sub_kernels(x))."""
    torch.manual_seed(0)
    weight = torch.empty(c * r * r, c_in, k, k, dtype=torch.float64)
    icnr_(weight, r)
    sub = weight[:: r * r]  # (C, C_in, k, k): the one kernel each output channel was given
    # every group of r^2 kernels is one kernel repeated
    assert torch.equal(weight, sub.repeat_interleave(r * r, dim=0))
    x = _random((2, c_in, 5, 7), 3, torch.float64)
    shuffled = F.pixel_shuffle(F.conv2d(x, weight, padding=k // 2), r)  # (2, C, 5r, 7r)
    nearest = F.interpolate(F.conv2d(x, sub, padding=k // 2), scale_factor=r, mode="nearest")
    torch.testing.assert_close(shuffled, nearest, rtol=0, atol=1e-12)


def test_icnr_draws_sub_kernels_with_the_given_init():
    weight = torch.empty(8, 3, 3, 3)
    icnr_(weight, 2, init=nn.init.ones_)
    assert torch.equal(weight, torch.ones_like(weight))
    icnr_(weight, 2)  # default: Kaiming normal, so the sub-kernels differ from each other
    assert not torch.equal(weight[0], weight[4])


def test_sub_pixel_upsample_starts_as_nearest_neighbour():
    torch.manual_seed(0)
    layer = SubPixelUpsample(channels=4, r=2).double()
    x = _random((1, 4, 6, 6), 5, torch.float64)
    conv = layer.conv
    sub_w, sub_b = conv.weight[::4], conv.bias[::4]
    expected = layer.act(F.interpolate(F.conv2d(x, sub_w, sub_b, padding=1), scale_factor=2, mode="nearest"))
    with torch.no_grad():
        torch.testing.assert_close(layer(x), expected, rtol=0, atol=1e-12)
    assert layer(x).shape == (1, 4, 12, 12)


def test_sub_pixel_upsample_without_icnr_has_independent_kernels():
    torch.manual_seed(0)
    layer = SubPixelUpsample(channels=4, r=2, icnr=False)
    assert not torch.equal(layer.conv.weight[0], layer.conv.weight[1])


def test_residual_block_keeps_the_shape():
    block = ResidualBlock(16)
    x = torch.randn(2, 16, 7, 9)
    assert block(x).shape == x.shape


def test_srresnet_has_the_papers_parameter_count():
    assert count_parameters(SRResNet(scale=4, n_blocks=16, channels=64)) == PAPER_SRRESNET_PARAMETERS


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_srresnet_output_shapes(scale):
    model = SRResNet(scale=scale).eval()
    with torch.no_grad():
        y = model(torch.rand(2, 3, 6, 5))  # (N, 3, h, w) in [0, 1]
    assert y.shape == (2, 3, 6 * scale, 5 * scale)
    assert len(model.upsample) == {2: 1, 4: 2, 8: 3}[scale]  # one x2 sub-pixel block per factor 2


@pytest.mark.parametrize("scale", [0, 1, 3, 6])
def test_srresnet_rejects_scales_that_are_not_powers_of_two(scale):
    with pytest.raises(ValueError, match="power of two"):
        SRResNet(scale=scale)
