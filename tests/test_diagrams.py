"""The diagrams of srgan_lib.figures.diagrams and their committed SVGs (docs/figures/).

Oracles: the layer lists of the paper's Figure 4 (written out below from the paper, independently of the
code) for the network diagrams, torch's own ``F.pixel_shuffle`` for the sub-pixel illustration, and a
fresh rendering for the committed files (``scripts/make_diagrams.py --check``).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from torch import nn  # noqa: E402

from srgan_lib.figures import diagrams  # noqa: E402
from srgan_lib.models import Discriminator, SRResNet  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Figure 4 of Ledig et al. (2017), as the paper draws it (k: kernel, n: feature maps, s: stride).
PAPER_GENERATOR = {
    "head": ["Conv k9 n64 s1", "PReLU"],
    "block": ["Conv k3 n64 s1", "BN", "PReLU", "Conv k3 n64 s1", "BN"],
    "n_blocks": 16,
    "post": ["Conv k3 n64 s1", "BN"],
    "upsample": [["Conv k3 n256 s1", "PixelShuffle x2", "PReLU"]] * 2,
    "tail": ["Conv k9 n3 s1"],
}
PAPER_D_CONVS = [(64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2)]


def _labels(layers):
    return [lab for _, lab in layers]


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_generator_layers_are_figure_4():
    g = diagrams.generator_layers(SRResNet())
    got = {"head": _labels(g["head"]), "block": _labels(g["block"]), "n_blocks": g["n_blocks"],
           "post": _labels(g["post"]), "upsample": [_labels(u) for u in g["upsample"]], "tail": _labels(g["tail"])}
    assert got == PAPER_GENERATOR


def test_discriminator_layers_are_figure_4():
    d = diagrams.discriminator_layers(Discriminator())
    want = [[f"Conv k3 n{n} s{s}"] + (["BN"] if i else []) + ["LeakyReLU 0.2"]
            for i, (n, s) in enumerate(PAPER_D_CONVS)]
    assert [_labels(c) for c in d["convs"]] == want
    assert _labels(d["classifier"]) == ["Dense 1024", "LeakyReLU 0.2", "Dense 1"]
    assert _labels(d["pool"]) == ["AvgPool to 6x6 (ours)"]


def test_network_figures_draw_every_layer_of_the_model():
    texts = _texts(diagrams.generator_figure())
    assert texts.count("Conv k3 n64 s1") == 3  # two in the drawn residual block, one after the blocks
    assert texts.count("PixelShuffle x2") == 2 and texts.count("Conv k3 n256 s1") == 2
    assert "Conv k9 n64 s1" in texts and "Conv k9 n3 s1" in texts
    assert any("B = 16" in t for t in texts) and "x4 in all" in texts
    texts = _texts(diagrams.discriminator_figure())
    for n, s in PAPER_D_CONVS:
        assert f"Conv k3 n{n} s{s}" in texts
    assert texts.count("BN") == 7 and "Dense 1024" in texts and "Dense 1" in texts
    assert "512x6x6" in texts  # the last feature map on a 96 x 96 crop (section 3.2, Figure 4)


def test_discriminator_figure_reads_at_github_width():
    """Issue 30: at GitHub's ~900 px the old one-row drawing shrank its vertical labels to unreadable; now the
    figure is at most 9 inches wide (900 px at 100 dpi, shown unscaled) and every label is horizontal, 9 pt or
    more."""
    fig = diagrams.discriminator_figure()
    assert fig.get_figwidth() <= 9.0
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert all(t.get_rotation() == 0 for t in texts), [t.get_text() for t in texts if t.get_rotation()]
    assert min(t.get_fontsize() for t in texts) >= 9


@pytest.mark.parametrize("name", ["generator", "residual_block", "subpixel_block"])
def test_generator_and_block_figures_read_at_github_width(name):
    """Issue 30: the generator (notebooks 00 and 02) and its two blocks (notebook 01) wrote their layer names
    turned by 90 degrees, and the generator's 12.5 inches shrank them at GitHub's ~900 px. Now each figure is at
    most 9 inches wide (shown unscaled), every label is horizontal, 9 pt or more, and inside the figure."""
    fig = diagrams.DIAGRAMS[name]()
    assert fig.get_figwidth() <= 9.0
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert all(t.get_rotation() == 0 for t in texts), [t.get_text() for t in texts if t.get_rotation()]
    assert min(t.get_fontsize() for t in texts) >= 9, [t.get_text() for t in texts if t.get_fontsize() < 9]
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    outside = [t.get_text() for t in texts if not page.contains(*t.get_window_extent(renderer).p0)
               or not page.contains(*t.get_window_extent(renderer).p1)]
    assert not outside, f"labels cut off at the figure's edge: {outside}"


def test_a_changed_model_changes_its_diagram():
    texts = _texts(diagrams.generator_figure(SRResNet(scale=8, n_blocks=4)))
    assert texts.count("PixelShuffle x2") == 3 and "x8 in all" in texts and any("B = 4" in t for t in texts)
    model = SRResNet()
    model.tail = nn.Conv2d(64, 3, 5, padding=2)
    g = diagrams.generator_layers(model)
    assert _labels(g["tail"]) == ["Conv k5 n3 s1"] != PAPER_GENERATOR["tail"]
    assert "Conv k5 n3 s1" in _texts(diagrams.generator_figure(model))
    model.head.append(nn.ReLU())  # a layer the diagrams do not know: a clear error, not a silent omission
    with pytest.raises(TypeError, match="ReLU"):
        diagrams.generator_figure(model)


def test_block_figures_follow_the_blocks():
    from srgan_lib.layers import ResidualBlock, SubPixelUpsample

    texts = _texts(diagrams.residual_block_figure(ResidualBlock(32)))
    assert texts.count("Conv k3 n32 s1") == 2 and "+" in texts
    texts = _texts(diagrams.subpixel_block_figure(SubPixelUpsample(64, r=2)))
    assert "Conv k3 n256 s1" in texts and "PixelShuffle x2" in texts and "(256, h, w)" in texts


def test_subpixel_illustration_is_torchs_pixel_shuffle():
    fig = diagrams.subpixel_block_figure()
    cells = [t.get_text() for t in fig.findobj(Text) if re.fullmatch(r"\d[a-d]", t.get_text())]
    assert len(cells) == 32  # 4 input channels of 2 x 2, then the 4 x 4 output, row by row
    channel = torch.arange(4).view(1, 4, 1, 1).expand(1, 4, 2, 2)
    where = torch.arange(4).view(1, 1, 2, 2).expand(1, 4, 2, 2)
    want = [f"{c}{'abcd'[p]}" for c, p in zip(F.pixel_shuffle(channel, 2).flatten().tolist(),
                                               F.pixel_shuffle(where, 2).flatten().tolist())]
    assert cells[16:] == want


def test_loss_figures_state_the_weight_and_the_vgg_layer(monkeypatch):
    for fn in (diagrams.perceptual_loss_figure, diagrams.srgan_figure, diagrams.training_step_figure):
        joined = " ".join(_texts(fn()))
        assert "10^{-3}" in joined, fn.__name__
    assert "phi_{5,4}" in " ".join(_texts(diagrams.perceptual_loss_figure()))
    monkeypatch.setattr(diagrams, "ADVERSARIAL_WEIGHT", 1e-2)
    monkeypatch.setattr(diagrams, "DEFAULT_PHI", (2, 2))
    joined = " ".join(_texts(diagrams.perceptual_loss_figure()))
    assert "10^{-2}" in joined and "phi_{2,2}" in joined and "10^{-3}" not in joined


# ---------------------------------------------------------------------------------------------------
# The committed SVGs
# ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def md():
    """``scripts/make_diagrams.py`` as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_diagrams", ROOT / "scripts" / "make_diagrams.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _svg_texts(svg: bytes) -> list[str]:
    """The visible strings of an SVG written with svg.fonttype 'none' (plain text and mathtext sources)."""
    s = svg.decode()
    return re.findall(r"<text[^>]*>([^<]+)</text>", s) + re.findall(r"<!-- (.*?) -->", s)


def test_rendering_is_byte_for_byte_deterministic(md):
    assert md.render_svg("residual_block") == md.render_svg("residual_block")


@pytest.mark.parametrize("name", sorted(diagrams.DIAGRAMS))
def test_committed_svg_is_current(md, name):
    path = ROOT / "docs" / "figures" / f"{name}.svg"
    assert path.is_file(), f"{path.name} missing: run python scripts/make_diagrams.py"
    committed, fresh = path.read_bytes(), md.render_svg(name)
    written_by = re.search(rb"Matplotlib v([\w.]+)", committed)
    if written_by and written_by.group(1).decode() == matplotlib.__version__:
        assert committed == fresh, f"{path.name} is stale: run python scripts/make_diagrams.py"
    else:  # another matplotlib writes other coordinates: compare what the diagram says
        assert _svg_texts(committed) == _svg_texts(fresh), f"{path.name} is stale: run scripts/make_diagrams.py"


def test_check_flags_a_stale_file(md, tmp_path, capsys):
    assert md.main(["residual_block", "--out", str(tmp_path)]) == 0
    assert md.main(["residual_block", "--out", str(tmp_path), "--check"]) == 0
    svg = tmp_path / "residual_block.svg"
    svg.write_bytes(svg.read_bytes().replace(b"Conv k3 n64 s1", b"Conv k5 n64 s1"))
    assert md.main(["residual_block", "--out", str(tmp_path), "--check"]) == 1
    assert "residual_block.svg" in capsys.readouterr().err


@pytest.mark.parametrize("C, r", [(1, 3), (3, 2)])
def test_shuffle_map_labels_follow_torch_and_rgb_panels_look_their_colour(C, r):
    fig = diagrams.shuffle_map_figure(C=C, r=r, H=2, W=2)
    out_axes = fig.axes[C * r * r :]  # the input channels first, then one panel per output channel
    assert len(out_axes) == C
    k = C * r * r
    channel = F.pixel_shuffle(torch.arange(k).view(1, k, 1, 1).expand(1, k, 2, 2), r)[0]  # oracle: torch
    where = F.pixel_shuffle(torch.arange(4).view(1, 1, 2, 2).expand(1, k, 2, 2), r)[0]
    for c, ax in enumerate(out_axes):
        labels = [t.get_text() for t in ax.texts]
        assert labels == [f"{int(a)}{'abcd'[int(b)]}" for a, b in zip(channel[c].flatten(), where[c].flatten())]
        if C == 3:
            assert ax.get_title() == "RGB"[c]
            rgb = ax.images[0].get_array()[..., :3].reshape(-1, 3)  # the colours of the panel's cells
            assert (rgb.argmax(axis=1) == c).all(), f"panel {'RGB'[c]} is not {'RGB'[c]}"


@pytest.mark.parametrize("kwargs", [{}, {"scale": 2, "channels": 32}, {"scale": 8, "n_blocks": 2, "channels": 16}])
def test_generator_figure_draws_the_tensor_shapes_the_model_computes(kwargs):
    """The arrows of the generator diagram carry one image's tensor shape (channels × height × width, h × w the LR
    size). Oracle: the shapes a forward pass of the model gives on an h × w = 5 × 7 input, hooked after the head,
    after each upsampling block and at the output."""
    model = SRResNet(**kwargs).eval()
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape[1:])))
             for m in [model.head, *model.upsample, model.tail]]
    with torch.no_grad():
        model(torch.rand(1, 3, 5, 7))  # (1, 3, 5, 7) -> (1, 3, 5 r, 7 r)
    for h in hooks:
        h.remove()

    def as_numbers(shape: str) -> tuple[int, ...]:  # "64×2h×2w" -> (64, 10, 14)
        c, hh, ww = shape.split("×")
        return int(c), int(hh[:-1] or 1) * 5, int(ww[:-1] or 1) * 7

    shapes = diagrams.generator_shapes(model)
    assert as_numbers(shapes["input"]) == (3, 5, 7)
    assert [as_numbers(s) for s in [shapes["features"], *shapes["upsample"], shapes["output"]]] == seen
    texts = _texts(diagrams.generator_figure(model))
    for s in [shapes["input"], shapes["features"], *shapes["upsample"], shapes["output"]]:
        assert s in texts, f"{s} is not drawn"
    if not kwargs:  # the paper's x4 network, as notebook 02 labels it
        assert shapes == {"input": "3×h×w", "features": "64×h×w", "upsample": ["64×2h×2w", "64×4h×4w"],
                          "output": "3×4h×4w"}
