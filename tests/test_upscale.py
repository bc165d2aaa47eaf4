"""Upscaling any image: receptive field, tiled == untiled, memory plan, alpha, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from srgan_lib.plumbing import upscale as up
from srgan_lib.models import SRResNet, scale_of


def upscale_tensor(model: nn.Module, lr: torch.Tensor, tile="auto", **kwargs) -> torch.Tensor:
    """The pieces of :func:`up.upscale_pieces` put together: ``(N, 3, h, w)`` -> ``(N, 3, s*h, s*w)``, every output
    pixel written exactly once (the float result that :func:`up.upscale_array` rounds to uint8)."""
    out = hits = None
    for top, left, piece in up.upscale_pieces(model, lr, tile, **kwargs):
        if out is None:
            n, _, h, w = lr.shape
            s = scale_of(model)
            out = torch.full((n, 3, h * s, w * s), float("nan"))  # (N, 3, s*h, s*w)
            hits = torch.zeros(h * s, w * s, dtype=torch.int64)
        out[:, :, top:top + piece.shape[2], left:left + piece.shape[3]] = piece.cpu()
        hits[top:top + piece.shape[2], left:left + piece.shape[3]] += 1
    assert bool((hits == 1).all()), "tiles overlap or leave holes in the output"
    return out


pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py


def tiny(scale: int = 4, seed: int = 0) -> SRResNet:
    torch.manual_seed(seed)
    model = SRResNet(scale=scale, n_blocks=2, channels=8).eval()
    for m in model.modules():  # non-trivial BN statistics, so BN is not the identity
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    return model


def measured_radius(model: nn.Module, size: int = 48) -> float:
    """The receptive-field radius measured directly: perturb one LR pixel, see how far the HR output
    changes (in LR pixels, the largest distance from the perturbed pixel's HR block)."""
    torch.manual_seed(1)
    x = torch.rand(1, 3, size, size, dtype=torch.float64)
    m = model.double()
    c = size // 2
    with torch.no_grad():
        a = m(x)
        x2 = x.clone()
        x2[:, :, c, c] += 1.0
        diff = (m(x2) - a).abs().amax(dim=(0, 1)) > 0  # (H, W)
    ys, xs = torch.nonzero(diff, as_tuple=True)
    s = model.scale
    lo = min(int(ys.min()), int(xs.min()))
    hi = max(int(ys.max()), int(xs.max()))
    model.float()
    return max(c * s - lo, hi - (c * s + s - 1)) / s


def test_radius_formula_matches_the_paper_network():
    assert up.receptive_field_radius(SRResNet()) == 40  # the paper's x4 network (Figure 4)
    assert up.trunk_radius(SRResNet()) == 37 and up.upsampling_radius(SRResNet()) == 3
    # x2: one sub-pixel conv at LR (1) + the 9 x 9 tail at 2x (4 / 2 = 2) = 3
    assert up.receptive_field_radius(SRResNet(scale=2)) == 37 + 3


def test_the_scale_is_read_from_the_model_never_assumed():
    """models.scale_of is the one place the factor is read: a model without one is refused, not taken for x4."""
    assert scale_of(tiny(2)) == 2 and scale_of(SRResNet()) == 4
    x = torch.rand(1, 3, 12, 12)
    assert upscale_tensor(tiny(2), x, tile=None).shape == (1, 3, 24, 24)
    plain = nn.Sequential(nn.Conv2d(3, 12, 3, padding=1), nn.PixelShuffle(2)).eval()
    for call in (lambda: upscale_tensor(plain, x), lambda: up.plan_tiles(plain), lambda: scale_of(plain)):
        with pytest.raises(ValueError, match="no upscaling factor"):
            call()


def test_radius_is_an_upper_bound_of_the_measured_one():
    for scale in (2, 4):
        model = tiny(scale)
        measured = measured_radius(model)
        assert measured <= up.receptive_field_radius(model) < measured + 1, (scale, measured)


@pytest.mark.parametrize("scale", [2, 4])
def test_tiled_equals_untiled_tiny_model(scale):
    model = tiny(scale)
    torch.manual_seed(2)
    x = torch.rand(1, 3, 37, 51)
    whole = upscale_tensor(model, x, tile=None)
    r = up.receptive_field_radius(model)
    two_stage = upscale_tensor(model, x, tile=10, chunk=4)
    one_stage = upscale_tensor(model, x, tile=10, overlap=r)
    assert whole.shape == (1, 3, 37 * scale, 51 * scale)
    torch.testing.assert_close(two_stage, whole, atol=1e-5, rtol=0)
    torch.testing.assert_close(one_stage, whole, atol=1e-5, rtol=0)
    # the test can fail: too little context changes the result
    short = upscale_tensor(model, x, tile=10, overlap=r - 3)
    assert (short - whole).abs().max() > 1e-4  # far above float noise (~1e-7)


def test_tiled_equals_untiled_paper_model():
    model = SRResNet().eval()
    torch.manual_seed(3)
    x = torch.rand(1, 3, 100, 92)
    whole = upscale_tensor(model, x, tile=None)
    tiled = upscale_tensor(model, x, tile=32, chunk=20)  # 4 x 3 trunk tiles, several chunks each
    torch.testing.assert_close(tiled, whole, atol=1e-4, rtol=0)


def test_upscale_array_matches_tensor_path_and_reports_progress():
    model = tiny()
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (30, 41, 3), dtype=np.uint8)
    calls = []
    out = up.upscale_array(model, img, tile=12, chunk=5, progress=lambda d, t: calls.append((d, t)))
    from srgan_lib.images import tensor_to_uint8, uint8_to_tensor

    ref = tensor_to_uint8(upscale_tensor(model, uint8_to_tensor(img)[None], tile=None)[0])
    assert out.shape == (120, 164, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - ref.astype(int)).max() <= 1  # rounding of float-level differences
    assert calls[-1] == (120 * 164, 120 * 164) and len(calls) > 4


def test_plan_tiles_respects_the_budget():
    model = SRResNet()
    tile, chunk = up.plan_tiles(model, budget=1536 * 2**20)
    ctx = up.receptive_field_radius(model)
    trunk = 4 * 64 * up.TRUNK_MAPS * (tile + 2 * ctx) ** 2
    upsample = 4 * 64 * 16 * up.UPSAMPLE_MAPS * (chunk + 6) ** 2 + 4 * 64 * (tile + 2 * ctx) ** 2
    assert trunk <= 1536 * 2**20 and upsample <= 1536 * 2**20
    assert tile >= 400  # large trunk tiles: little recomputed overlap
    small = up.plan_tiles(model, budget=64 * 2**20)
    assert small[0] < tile and small[1] < chunk
    assert chunk == up.CPU_CHUNK_MAX  # the budget would allow more; the CPU runs 80-pixel chunks faster
    assert up.plan_tiles(model, budget=1536 * 2**20, device="meta")[1] > up.CPU_CHUNK_MAX  # not capped off the CPU


def test_spans_are_near_equal_and_cover():
    assert up._spans(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert up._spans(2048, 700) == [(0, 683), (683, 1366), (1366, 2048)]


def test_alpha_is_upscaled_with_bicubic():
    alpha = np.zeros((10, 12), np.uint8)
    alpha[3:7, 4:9] = 255
    out = up.upscale_alpha(alpha, 4)
    ref = np.asarray(Image.fromarray(alpha).resize((48, 40), Image.BICUBIC))
    assert out.shape == (40, 48) and np.array_equal(out, ref)
    rgb, a = up.upscale_image(tiny(), np.zeros((10, 12, 3), np.uint8), alpha, tile=None)
    assert rgb.shape == (40, 48, 3) and np.array_equal(a, ref)


def test_upscale_file_modes(tmp_path):
    model = tiny()
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, (16, 20, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    Image.fromarray(rgba[..., 0]).save(tmp_path / "gray.png")
    deep = (rgba[..., 0].astype("<u2") * 257).tobytes()
    Image.frombytes("I;16", (20, 16), deep).save(tmp_path / "deep.png")
    Image.fromarray(rgba[..., :3]).convert("P").save(tmp_path / "pal.gif")
    out = up.upscale_file(model, tmp_path / "a.png", tmp_path / "a_x4.png", tile=8)
    with Image.open(out) as im:
        assert im.mode == "RGBA" and im.size == (80, 64)
        assert np.array_equal(np.asarray(im)[..., 3], up.upscale_alpha(rgba[..., 3], 4))
    for name in ("gray.png", "deep.png", "pal.gif"):
        dst = tmp_path / up.output_name(Path(name), 4, False)
        up.upscale_file(model, tmp_path / name, dst)
        with Image.open(dst) as im:
            assert im.mode == "RGB" and im.size == (80, 64)
    assert up.output_name(Path("x.jpg"), 4, True) == "x_x4.png"
    assert up.output_name(Path("x.jpg"), 4, False) == "x_x4.jpg"
    assert up.output_name(Path("x.gif"), 2, False) == "x_x2.png"


def test_exif_orientation_is_applied(tmp_path):
    img = np.zeros((12, 20, 3), np.uint8)
    im = Image.fromarray(img)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees: upright the image is 12 wide, 20 high
    im.save(tmp_path / "r.jpg", exif=exif)
    out = up.upscale_file(tiny(), tmp_path / "r.jpg", tmp_path / "r_x4.png")
    with Image.open(out) as res:
        assert res.size == (48, 80)


def test_upscale_file_refuses_before_working(tmp_path):
    model = tiny()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "in.png")
    (tmp_path / "out.png").write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="out.png"):
        up.upscale_file(model, tmp_path / "in.png", tmp_path / "out.png")
    assert (tmp_path / "out.png").read_bytes() == b"keep me"
    up.upscale_file(model, tmp_path / "in.png", tmp_path / "out.png", overwrite=True)
    Image.fromarray(np.zeros((4, 40, 3), np.uint8)).save(tmp_path / "thin.png")
    with pytest.raises(ValueError, match="thin.png.*too small"):
        up.upscale_file(model, tmp_path / "thin.png", tmp_path / "thin_x4.png")
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        up.upscale_file(model, tmp_path / "in.png", tmp_path / "file" / "out.png")


# -- the fault probe of issue 17: checked inputs, no garbage out -------------------------------------------


@pytest.mark.parametrize("bad, fragment", [
    (lambda x: (x * 255).to(torch.uint8), "uint8"),
    (lambda x: x * 255, "0-255"),
    (lambda x: x * 2 - 1, "[-1, 1]"),
    (lambda x: x.index_put_((torch.tensor([0]),) * 4, torch.tensor(float("nan"))), "NaN"),
    (lambda x: x[:, :2], "(N, 3, h, w)"),
    (lambda x: x[0], "(N, 3, h, w)"),
    (lambda x: x.numpy(), "torch tensor"),
])
def test_upscale_pieces_checks_its_input(bad, fragment):
    """Case 10: uint8, 0-255 floats and [-1, 1] floats were accepted (100 % saturated output); one NaN LR
    pixel made the whole output NaN."""
    x = torch.rand(1, 3, 12, 12)
    with pytest.raises(ValueError, match="lr: ") as info:
        upscale_tensor(tiny(), bad(x.clone()))
    assert fragment in str(info.value)
    upscale_tensor(tiny(), x)  # the same tensor, in range, is fine


def test_negative_overlap_is_refused_and_tiles_always_cover():
    """Case 4: overlap=-3 gave uninitialised black blocks."""
    model, x = tiny(), torch.rand(1, 3, 20, 20)
    for kwargs in (dict(overlap=-3), dict(tile=0), dict(tile=-5), dict(chunk=0), dict(tile="big"), dict(overlap=1.5)):
        with pytest.raises(ValueError):
            upscale_tensor(model, x, **{"tile": 8, **kwargs})
    # overlap 0 is legal (and differs from the untiled result), every output pixel is written
    tiled = upscale_tensor(model, x, tile=8, overlap=0)
    assert torch.isfinite(tiled).all() and tiled.shape == (1, 3, 80, 80)


def test_non_finite_output_is_refused():
    """Case 6: a NaN/inf output was clamped and written as a black PNG."""
    model = tiny()
    with torch.no_grad():
        model.tail.bias[0] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        upscale_tensor(model, torch.rand(1, 3, 12, 12))
    with pytest.raises(ValueError, match="NaN or infinite"):
        up.upscale_array(model, np.zeros((12, 12, 3), np.uint8), tile=None)


def test_upscale_image_checks_rgb_and_alpha():
    """Case 10: an alpha of the wrong shape was accepted, a float alpha of 0.5 became 0."""
    model, rgb = tiny(), np.zeros((12, 14, 3), np.uint8)
    with pytest.raises(ValueError, match="alpha: expected an"):
        up.upscale_image(model, rgb, np.zeros((14, 12), np.uint8))
    with pytest.raises(ValueError, match=r"alpha: expected uint8.*float64"):
        up.upscale_image(model, rgb, np.full((12, 14), 0.5))
    with pytest.raises(ValueError, match="rgb: expected"):
        up.upscale_image(model, np.zeros((12, 14, 4), np.uint8))
    with pytest.raises(ValueError, match="rgb: expected"):
        up.upscale_image(model, rgb.astype(np.float32))
    sr, alpha = up.upscale_image(model, rgb, np.full((12, 14), 128, np.uint8))
    assert sr.shape == (48, 56, 3) and alpha.shape == (48, 56) and (alpha == 128).all()


def test_upscale_file_limit_and_multi_frame(tmp_path):
    frames = [Image.fromarray(np.full((16, 20, 3), v, np.uint8)) for v in (10, 200)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(ValueError, match=r"anim.gif: 20x16 is 0.0 megapixels, above the limit of 0.0001"):
        up.upscale_file(tiny(), tmp_path / "anim.gif", tmp_path / "o.png", max_megapixels=1e-4)
    assert not (tmp_path / "o.png").exists()
    with pytest.warns(UserWarning, match="anim.gif: has 2 frames"):
        up.upscale_file(tiny(), tmp_path / "anim.gif", tmp_path / "o.png")
    with Image.open(tmp_path / "o.png") as im:
        assert im.size == (80, 64)


def test_inference_copy_folds_batch_norm_and_keeps_the_outputs():
    from srgan_lib.models import SRResNet
    from srgan_lib.plumbing.upscale import inference_copy

    torch.manual_seed(0)
    model = SRResNet(n_blocks=3, channels=16)
    for m in model.modules():  # non-trivial running statistics and affine parameters
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = inference_copy(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    slopes = [float(m.weight.detach()) for m in model.modules() if isinstance(m, torch.nn.PReLU)]
    leaky = [m for m in fast.modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert not any(isinstance(m, torch.nn.PReLU) for m in fast.modules()) and all(m.inplace for m in leaky)
    assert sorted(m.negative_slope for m in leaky) == pytest.approx(sorted(slopes))
    assert fast.head[0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.rand(2, 3, 12, 10)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), model(x), rtol=1e-4, atol=1e-5)  # torch's own unfused forward
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # the original is untouched
    model.train()
    assert inference_copy(model) is model  # batch statistics cannot be folded


def test_inference_copy_of_a_half_precision_model_is_folded_in_float32():
    """A bf16 generator (srgan upscale --precision bf16) keeps its dtype through the inference copy, and the
    copy's output matches torch's own unfused forward in bf16 within bf16's rounding."""
    from srgan_lib.models import SRResNet

    torch.manual_seed(1)
    model = SRResNet(n_blocks=2, channels=16).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 2.0)
    half = model.to(torch.bfloat16)
    fast = up.inference_copy(half)
    assert {p.dtype for p in fast.parameters()} == {torch.bfloat16}
    x = torch.rand(1, 3, 12, 10)
    with torch.no_grad():
        want = model.float()(x)  # float32 reference
        got = fast(x.to(torch.bfloat16)).float()
    assert (got - want).abs().max() < 0.05  # bf16 keeps ~3 significant digits; outputs are in [-1, 1]
    assert next(half.parameters()).dtype == torch.float32  # model.float() above cast `half` itself back


def test_estimate_seconds_scales_with_the_pixels(monkeypatch):
    from srgan_lib.models import SRResNet
    from srgan_lib.plumbing.upscale import estimate_seconds

    model = SRResNet(n_blocks=1, channels=8).eval()
    ticks = iter([0.0, 0.5] * 6)  # every timed probe takes 0.5 s: 0.5 / 64^2 s per LR pixel
    monkeypatch.setattr("time.perf_counter", lambda: next(ticks))
    monkeypatch.setattr(up, "plan_tiles", lambda *a, **k: (10_000, 10_000))  # one tile: no context overhead
    assert estimate_seconds(model, 64, 64) == pytest.approx(0.5)
    assert estimate_seconds(SRResNet(n_blocks=1, channels=8).eval().to(torch.bfloat16), 64, 64) == pytest.approx(0.5)
    assert estimate_seconds(model, 128, 256) == pytest.approx(0.5 * 8)
    monkeypatch.setattr(up, "plan_tiles", lambda *a, **k: (100, 100))  # tiles of 100 + the receptive field around
    r = up.receptive_field_radius(model)  # clipped at the edges: 3 spans of one axis read 300 + 4r rows, not 300 + 6r
    assert estimate_seconds(model, 300, 300) == pytest.approx(0.5 * 300**2 / 64**2 * ((300 + 4 * r) / 300) ** 2)
    assert estimate_seconds(model, 300, 300, tile=None) == pytest.approx(0.5 * 300**2 / 64**2)  # one pass
    tiled = 0.5 * 300**2 / 64**2 * up.tile_overhead(300, 300, 20, r)
    assert estimate_seconds(model, 300, 300, tile=20) == pytest.approx(tiled)


@pytest.mark.parametrize("s,k,c_in,c_out", [(4, 9, 16, 3), (2, 5, 8, 3), (4, 3, 4, 2)])
def test_space_to_depth_conv_equals_the_conv_it_stands_for(s, k, c_in, c_out):
    torch.manual_seed(s * k)
    conv = nn.Conv2d(c_in, c_out, k, padding=k // 2)
    x = torch.randn(2, c_in, 6 * s, 5 * s)
    fast = up.SpaceToDepthConv(conv, s)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), conv(x), rtol=1e-4, atol=1e-5)  # torch's own conv is the oracle
    assert up._conv_radius(fast) == k // 2
    with pytest.raises(ValueError, match="stride-1"):
        up.SpaceToDepthConv(nn.Conv2d(4, 3, 3, stride=2, padding=1), 2)


@pytest.mark.parametrize("slopes", [1, 6])
def test_sub_pixel_tail_equals_the_block_and_conv_it_stands_for(slopes):
    """The fused ending (PReLU before the shuffle, the output conv on the pre-shuffle map) against torch's own
    conv -> shuffle -> PReLU -> conv, with one PReLU slope (the paper's blocks) and one per channel."""
    from srgan_lib.layers import SubPixelUpsample

    torch.manual_seed(slopes)
    block = SubPixelUpsample(6, 2, icnr=False)
    block.act = nn.PReLU(slopes)
    block.act.weight.data.uniform_(-0.5, 0.9)  # distinct slopes: a wrong channel order would show
    tail = nn.Conv2d(6, 3, 9, padding=4)
    x = torch.randn(2, 6, 7, 5)
    fused = up.SubPixelTail(block, tail)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), tail(block(x)), rtol=1e-4, atol=1e-5)
    assert up._conv_radius(fused) == 1 + 2  # the block's 3x3 and the 9x9 as 5x5 blocks of 2 pixels


def test_inference_copy_keeps_the_receptive_field():
    from srgan_lib.models import SRResNet

    model = SRResNet().eval()
    fast = up.inference_copy(model)
    assert isinstance(fast.tail, up.SubPixelTail) and len(fast.upsample) == len(model.upsample) - 1
    assert up.receptive_field_radius(fast) == up.receptive_field_radius(model) == 40
    assert up.upsampling_radius(fast) == up.upsampling_radius(model) == 3


def test_the_inference_copy_is_made_once_per_state_of_the_weights(monkeypatch):
    """Upscaling images one by one folds the network once; new weights (loaded in place) are picked up."""
    model = tiny(4)
    made = []
    real = up.inference_copy
    monkeypatch.setattr(up, "inference_copy", lambda m: made.append(1) or real(m))
    x = torch.rand(1, 3, 12, 10)
    first = upscale_tensor(model, x, tile=None)
    torch.testing.assert_close(upscale_tensor(model, x, tile=None), first, rtol=0, atol=0)
    assert len(made) == 1
    other = tiny(4, seed=5)
    model.load_state_dict(other.state_dict())  # in place: the same tensors, new values
    with torch.no_grad():
        want = other(x).clamp(-1, 1).add(1).div(2)  # torch's own forward of the new weights, mapped to [0, 1]
    torch.testing.assert_close(upscale_tensor(model, x, tile=None), want, rtol=1e-4, atol=1e-5)
    assert len(made) == 2


# -- the fault probe of issue 28 ------------------------------------------------------------------------


def test_tensor_to_uint8_refuses_nan_instead_of_writing_black():
    """Bad 8: images.tensor_to_uint8 turned NaN into black pixels without a word; the other entry points refuse it."""
    from srgan_lib.images import tensor_to_uint8

    for bad in (float("nan"), float("inf"), float("-inf")):
        x = torch.rand(3, 4, 5)
        x[1, 2, 3] = bad
        with pytest.raises(ValueError, match=r"1 value\(s\) are NaN or infinite"):
            tensor_to_uint8(x)
    assert tensor_to_uint8(torch.full((3, 2, 2), 1.5)).max() == 255  # finite values are still clamped


def test_an_output_saturated_everywhere_is_refused():
    """Weak: finite but absurd weights (a tail scaled by 1e38) gave a saturated image with exit 0."""
    model = tiny()
    with torch.no_grad():
        model.tail.weight.mul_(1e30)
        assert bool(torch.isfinite(model(torch.rand(1, 3, 12, 12))).all())  # finite: not the NaN/inf check
    for tile in (None, "auto", 5):
        with pytest.raises(ValueError, match=r"saturated.*its weights are broken"):
            upscale_tensor(model, torch.rand(1, 3, 12, 12), tile=tile)
    flat = tiny()  # a legitimate image that is white everywhere still upscales
    with torch.no_grad():
        flat.tail.bias.fill_(1.2)
        flat.tail.weight.zero_()
    assert (up.upscale_array(flat, np.full((12, 12, 3), 255, np.uint8)) == 255).all()


def test_library_entry_points_refuse_bad_arguments_with_one_value_error():
    """Weak: upscale_array(list) raised AttributeError, SRResNet(n_blocks=-1) and SRResNet(channels=0) built, and a
    1-channel input failed inside torch."""
    model = tiny()
    with pytest.raises(ValueError, match=r"lr: expected an \(h, w, 3\) uint8 array, got a list"):
        up.upscale_array(model, np.zeros((12, 12, 3), np.uint8).tolist())
    for gray in (np.zeros((12, 12), np.uint8), np.zeros((12, 12, 1), np.uint8)):
        with pytest.raises(ValueError, match=r"lr: expected an \(h, w, 3\) uint8 array"):
            up.upscale_array(model, gray)
    with pytest.raises(ValueError, match=r"SRResNet takes \(N, 3, h, w\) RGB images.*\(1, 1, 12, 12\)"):
        model(torch.rand(1, 1, 12, 12))
    for kwargs, name in (({"n_blocks": -1}, "n_blocks"), ({"channels": 0}, "channels"), ({"n_blocks": 2.5}, "n_blocks"),
                         ({"scale": True}, "scale")):
        with pytest.raises(ValueError, match=f"SRResNet: {name} must be (at least 1|a whole number)"):
            SRResNet(**kwargs)


def test_tile_overhead_counts_the_context_each_tile_recomputes():
    """The LR pixels the network reads per image pixel: tiles plus their context, clipped at the image's edges
    (counted by brute force over the windows the tiler uses)."""
    for h, w, tile, ctx in ((40, 40, 2, 10), (300, 300, 100, 40), (17, 50, 7, 3), (64, 64, 1000, 40)):
        area = sum((t1 - t0) * (l1 - l0) for *_, t0, t1, l0, l1 in up._windows(h, w, tile, ctx))
        assert up.tile_overhead(h, w, tile, ctx) == pytest.approx(area / (h * w))
    assert up.tile_overhead(64, 64, 1000, 40) == 1.0  # one tile: nothing recomputed


def test_tile_slowdown_compares_a_chosen_tile_with_auto(monkeypatch):
    model = tiny()
    monkeypatch.setattr(up, "plan_tiles", lambda *a, **k: (100, 100))
    r = up.receptive_field_radius(model)
    assert up.tile_slowdown(model, 80, 80, 100) == 1.0
    assert up.tile_slowdown(model, 80, 80, 1) == pytest.approx(up.tile_overhead(80, 80, 1, r))
    assert up.tile_slowdown(model, 80, 80, 1) > 50
    assert up.tile_slowdown(model, 80, 80, 4, overlap=0) == 1.0  # no context: nothing recomputed
