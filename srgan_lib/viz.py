"""Figures: side-by-side comparisons with zoomed crops (the paper's Figures 2 and 6), training curves.

All functions take uint8 ``(H, W, 3)`` images (or [0, 1] floats) and return a matplotlib ``Figure``;
they never call ``plt.show()`` themselves, so notebooks and the command line decide what to do with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Box = tuple[int, int, int]  # (top, left, size) in HR pixels


def pick_boxes(hr: np.ndarray, n: int = 2, size: int = 48) -> list[Box]:
    """``n`` non-overlapping ``size x size`` windows with the most fine texture: the largest mean squared
    Laplacian of luma (the detail energy of :func:`high_frequency_ratio`) over the window.

    Fine texture is where SR methods differ most: MSE blurs it, a GAN re-invents it. The Laplacian, unlike
    the local variance, scores a window by detail spread over its area, so hair, fabric or foliage win over a
    single high-contrast edge (whose variance is large but whose detail is one line of pixels).
    """
    from scipy.ndimage import laplace, uniform_filter

    y = hr[..., :3].astype(np.float64).mean(axis=2) if hr.ndim == 3 else hr.astype(np.float64)
    h, w = y.shape
    size = min(size, h, w)
    var = uniform_filter(laplace(y) ** 2, size)  # local detail energy, window centred
    half = size // 2
    var[:half, :] = var[h - size + half + 1 :, :] = -1  # keep windows inside the image
    var[:, :half] = var[:, w - size + half + 1 :] = -1
    boxes: list[Box] = []
    for _ in range(n):
        cy, cx = np.unravel_index(int(np.argmax(var)), var.shape)
        if var[cy, cx] < 0:
            break
        top, left = int(cy) - half, int(cx) - half
        boxes.append((top, left, size))
        var[max(0, top - half) : top + size + half, max(0, left - half) : left + size + half] = -1
    return boxes


def held_out_pair(image: str = "astronaut", size: int = 256, scale: int = 4) -> tuple[np.ndarray, np.ndarray, Box]:
    """A demonstration pair from a bundled photograph never used in training: ``(hr, lr, box)``.

    ``hr`` is the ``size x size`` window of the photograph with the most fine texture (:func:`pick_boxes`),
    because fine texture is where bicubic, an MSE generator and a GAN differ most (a
    centre crop of ``astronaut`` is mostly smooth suit); ``size=0`` keeps the whole photograph. The crop is
    cut to a multiple of ``scale`` and ``lr`` is its MATLAB-era bicubic ``1/scale`` version, the paper's
    kind of test input (section 3.1). ``box`` is ``(top, left, side)`` of the crop in the photograph.
    """
    from .data import matlab_lr
    from .resize import modcrop
    from .samples import HELD_OUT_SAMPLES, load_sample

    if image not in HELD_OUT_SAMPLES:
        raise ValueError(f"{image!r} is not a held-out sample; use one of {', '.join(HELD_OUT_SAMPLES)} "
                         "(the others were used in training)")
    if not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"size must be a whole number >= 0 (0: the whole image), got {size!r}")
    photo = load_sample(image)
    if size and size < min(photo.shape[:2]):
        box = pick_boxes(photo, 1, size)[0]
        top, left, side = box
        photo = photo[top : top + side, left : left + side]
    else:
        box = (0, 0, min(photo.shape[:2]))
    hr = modcrop(photo, scale)
    return hr, matlab_lr(hr, scale), box


def _as_display(img: np.ndarray) -> np.ndarray:
    return img if img.dtype == np.uint8 else np.clip(img, 0, 1)


def comparison_figure(
    images: Mapping[str, np.ndarray],
    boxes: Sequence[Box] | None = None,
    scores: Mapping[str, str] | None = None,
    title: str | None = None,
    note: str | None = None,
    reference: str | None = None,
    width: float = 3.2,
):
    """Full images in the first row, then one row of zoomed crops per box.

    ``images``: name -> uint8 image, all the same size (e.g. bicubic | SRResNet | SRGAN | original).
    ``boxes``: crops as (top, left, size); default :func:`pick_boxes` on ``reference`` (default the last
    image, the original). ``scores``: name -> caption such as ``"28.43 dB / 0.8211"``. ``note`` is printed
    under the figure (use it to say, for example, that VGG was not pretrained).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    names = list(images)
    shapes = {images[n].shape[:2] for n in names}
    if len(shapes) != 1:
        raise ValueError(f"all images must have the same size, got {sorted(shapes)}")
    ref = images[reference or names[-1]]
    boxes = list(boxes) if boxes is not None else pick_boxes(ref)
    colours = ["#e41a1c", "#377eb8", "#4daf4a", "#ff7f00"]
    h, w = ref.shape[:2]
    rows = 1 + len(boxes)
    fig, axes = plt.subplots(rows, len(names), figsize=(width * len(names), width * (h / w + len(boxes)) + 0.6),
                             squeeze=False, gridspec_kw={"height_ratios": [h / w] + [1] * len(boxes)})
    for c, name in enumerate(names):
        ax = axes[0, c]
        ax.imshow(_as_display(images[name]))
        caption = name if not scores or name not in scores else f"{name}\n{scores[name]}"
        ax.set_title(caption, fontsize=10)
        for k, (top, left, size) in enumerate(boxes):
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), size, size, fill=False, lw=1.5,
                                   ec=colours[k % len(colours)]))
        for r, (top, left, size) in enumerate(boxes, start=1):
            crop = images[name][top : top + size, left : left + size]
            axes[r, c].imshow(_as_display(crop), interpolation="nearest")
            for side in axes[r, c].spines.values():
                side.set_edgecolor(colours[(r - 1) % len(colours)])
                side.set_linewidth(2)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=12)
    if note:
        fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=9, color="#b00020", wrap=True)
    # tight_layout ignores the suptitle: keep a 0.35-inch band free for it, or it overlaps two-line column titles.
    top = 1 - 0.35 / fig.get_figheight() if title else 1
    fig.tight_layout(rect=(0, 0.03 if note else 0, 1, top))
    return fig


def plot_history(history: Sequence[Mapping[str, float]], keys: Sequence[str] = ("loss", "val_psnr"),
                 baselines: Mapping[str, float] | None = None):
    """One panel per key of the engine's history (``loss``, ``val_psnr``, ``d_acc`` ...) against step.

    ``baselines``: horizontal reference lines, e.g. ``{"bicubic": 28.43}`` on the PSNR panel.
    """
    import matplotlib.pyplot as plt

    keys = [k for k in keys if any(k in h for h in history)]
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(4.5 * max(1, len(keys)), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        pts = [(h["step"], h[key]) for h in history if key in h]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="." if len(pts) < 30 else None)
        ax.set_xlabel("step")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        if key == "loss":
            ax.set_yscale("log")
        if baselines and key.startswith("val_psnr"):
            for label, value in baselines.items():
                ax.axhline(value, ls="--", color="grey")
                ax.annotate(label, (ax.get_xlim()[0], value), fontsize=8, va="bottom")
    fig.tight_layout()
    return fig


def error_map_figure(hr: np.ndarray, candidates: Mapping[str, np.ndarray], box: Box | None = None,
                     vmax: float = 0.25):
    """Absolute error |SR - HR| (mean over RGB, in [0, 1]) of each candidate, on a shared colour scale.

    The first column is the original (HR) crop, the reference every map is measured against; then one
    column per candidate: its crop above, its error map below. Where a GAN invents texture that is not in
    the original, its error map lights up even though the result looks sharp: the fidelity cost of
    photo-realism.
    """
    import matplotlib.pyplot as plt

    def crop(img: np.ndarray) -> np.ndarray:
        img = img.astype(np.float64) / 255.0
        if box is None:
            return img
        top, left, size = box
        return img[top : top + size, left : left + size]

    ref = crop(hr)
    names = list(candidates)
    fig, axes = plt.subplots(2, len(names) + 1, figsize=(3.0 * (len(names) + 1), 6.4), squeeze=False)
    axes[0, 0].imshow(np.clip(ref, 0, 1), interpolation="nearest")
    axes[0, 0].set_title("original (HR)", fontsize=10)
    axes[1, 0].axis("off")
    axes[1, 0].text(0.5, 0.5, "|SR - HR| below:\nblack = exact,\nbright = wrong", ha="center", va="center",
                    fontsize=9, transform=axes[1, 0].transAxes)
    im = None
    for c, name in enumerate(names, start=1):
        img = crop(candidates[name])
        err = np.abs(img - ref).mean(axis=2)
        axes[0, c].imshow(np.clip(img, 0, 1), interpolation="nearest")
        axes[0, c].set_title(name, fontsize=10)
        im = axes[1, c].imshow(err, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        axes[1, c].set_title(f"|error|, mean {err.mean():.3f}", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if im is not None:
        fig.colorbar(im, ax=axes[1, 1:].tolist(), shrink=0.8, label="mean |SR - HR| over RGB")
    return fig


# ------------------------------------------------------------------------------------------------
# Interactive comparison (section 3.4's visual comparisons), with a static fallback
# ------------------------------------------------------------------------------------------------

#: Set this environment variable (to anything but "" or "0") to force static figures everywhere.
STATIC_ENV = "SRGAN_STATIC_FIGURES"


def widgets_available() -> bool:
    """True when an interactive widget can be shown: running inside an IPython *kernel* (JupyterLab,
    Colab, VS Code), ipywidgets importable, and ``$SRGAN_STATIC_FIGURES`` not set.

    A kernel cannot tell whether its frontend renders widgets (nbval and GitHub do not), so notebooks
    always show the static figure too, and the widget only as an extra (see :func:`interactive_comparison`).
    """
    import os

    if os.environ.get(STATIC_ENV, "") not in ("", "0"):
        return False
    try:
        from IPython import get_ipython
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def split_view(left: np.ndarray, right: np.ndarray, split: float = 0.5, zoom: int = 1,
               centre: tuple[int, int] | None = None, line: bool = True) -> np.ndarray:
    """One uint8 image: ``left`` up to column ``split * width``, ``right`` after it, optionally
    zoomed ``zoom`` times (nearest neighbour) around ``centre`` = (row, col) in full-image pixels.

    The same crop window is taken from both images, so the split compares like with like.
    """
    if left.shape != right.shape:
        raise ValueError(f"split_view: images differ in size, {left.shape} vs {right.shape}")
    if zoom < 1:
        raise ValueError(f"split_view: zoom must be >= 1, got {zoom}")
    h, w = left.shape[:2]
    ch, cw = max(1, h // zoom), max(1, w // zoom)  # window in full-image pixels
    cy, cx = centre if centre is not None else (h // 2, w // 2)
    top = int(np.clip(cy - ch // 2, 0, h - ch))
    lft = int(np.clip(cx - cw // 2, 0, w - cw))
    a = left[top : top + ch, lft : lft + cw]  # (ch, cw, 3)
    b = right[top : top + ch, lft : lft + cw]  # (ch, cw, 3)
    cut = int(round(np.clip(split, 0.0, 1.0) * cw))
    out = np.concatenate([a[:, :cut], b[:, cut:]], axis=1)  # (ch, cw, 3)
    if zoom > 1:
        out = np.repeat(np.repeat(out, zoom, axis=0), zoom, axis=1)  # (ch*zoom, cw*zoom, 3)
    out = np.ascontiguousarray(out)
    if line and 0 < cut < cw:
        col = cut * zoom
        out[:, max(0, col - 1) : col + 1] = (255, 255, 255)
    return out


def _png_bytes(img: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buf, format="PNG")
    return buf.getvalue()


#: Widget images are magnified by the largest integer factor that fits this box (CSS pixels).
DISPLAY_WIDTH, DISPLAY_HEIGHT = 800, 640
_PIXELATED = "srgan-pixelated"  # CSS class of widget images: no browser smoothing when scaled (HiDPI screens)
_PIXELATED_CSS = (f"<style>.{_PIXELATED}, .{_PIXELATED} img {{image-rendering: crisp-edges; "
                  "image-rendering: pixelated;}</style>")


def display_scale(shape: Sequence[int], width: int = DISPLAY_WIDTH, height: int = DISPLAY_HEIGHT) -> int:
    """The integer magnification for showing an image of ``shape`` (H, W, ...): the largest k >= 1 with
    k W <= ``width`` and k H <= ``height`` (1 for an image already that large; it is never shrunk).

    An integer factor with nearest-neighbour pixels shows every pixel as a k x k square: no pixel is
    drawn wider than its neighbour and nothing is smoothed, so blur and invented detail stay visible.
    """
    h, w = int(shape[0]), int(shape[1])
    if h < 1 or w < 1:
        raise ValueError(f"display_scale: empty image of shape {tuple(shape)}")
    return max(1, min(width // w, height // h))


def magnify(img: np.ndarray, k: int) -> np.ndarray:
    """Nearest-neighbour magnification by the integer ``k``: (H, W, C) -> (k H, k W, C)."""
    if k < 1 or int(k) != k:
        raise ValueError(f"magnify: the factor must be a positive integer, got {k}")
    return np.repeat(np.repeat(img, int(k), axis=0), int(k), axis=1) if k > 1 else img


def set_pixel_image(view, img: np.ndarray, width: int = DISPLAY_WIDTH, height: int = DISPLAY_HEIGHT) -> int:
    """Show ``img`` in the ipywidgets ``Image`` ``view`` at its :func:`display_scale`, as exactly that many
    CSS pixels, with the ``image-rendering: pixelated`` class; returns the factor used."""
    k = display_scale(img.shape, width, height)
    big = magnify(img, k)
    view.value = _png_bytes(big)
    view.layout.width, view.layout.height = f"{big.shape[1]}px", f"{big.shape[0]}px"
    view.layout.max_width = "none"  # the frontend must not shrink it to a non-integer factor
    view.add_class(_PIXELATED)
    return k


def snapshot_png(img: np.ndarray, title: str = "", k: int | None = None) -> bytes:
    """A static PNG of a widget's current view: ``img`` magnified by ``k`` (default :func:`display_scale`),
    nearest neighbour, with ``title`` above it. It is what a notebook keeps where widgets cannot render."""
    import io

    from matplotlib.figure import Figure

    big = magnify(img, k or display_scale(img.shape))
    h, w = big.shape[:2]
    band = 0.2 * (title.count("\n") + 1) + 0.15 if title else 0.0  # inches above the image for the title
    text_w = 6.5 * max((len(line) for line in title.splitlines()), default=0) + 20  # pixels, 9 pt at 100 dpi
    fig_w = max(w, text_w)  # a title wider than the image widens the picture, the image stays centred
    fig = Figure(figsize=(fig_w / 100, h / 100 + band), dpi=100)
    ax = fig.add_axes(((1 - w / fig_w) / 2, 0, w / fig_w, h / 100 / (h / 100 + band)))
    ax.imshow(big, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.text(0.5, 1 - 0.05 / (h / 100 + band), title, ha="center", va="top", fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def snapshot_box(children: Sequence, snapshot):
    """An ``ipywidgets.VBox`` of ``children`` whose display also carries ``image/png`` from ``snapshot()``.

    Live, the frontend renders the widget; GitHub, nbconvert's HTML and an untrusted notebook (widgets
    need a trusted one) render the PNG, so committed outputs show a picture, not ``VBox(children=(...``.
    A ``<style>`` child turns off smoothing for :func:`set_pixel_image` images.
    """
    import base64

    import ipywidgets as W

    class SnapshotVBox(W.VBox):
        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs)
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            data["image/png"] = base64.b64encode(snapshot()).decode("ascii")
            return bundle

    return SnapshotVBox([W.HTML(_PIXELATED_CSS), *children])


def interactive_comparison(
    images: Mapping[str, np.ndarray],
    left: str | None = None,
    right: str | None = None,
    boxes: Sequence[Box] | None = None,
    title: str | None = None,
    note: str | None = None,
    static: bool | None = None,
):
    """Compare methods with a moving split: two Dropdowns (left and right method), a split slider, a zoom
    slider and a Dropdown of zoom centres (the :func:`pick_boxes` windows, or ``boxes``).

    Returns an ``ipywidgets.VBox`` when :func:`widgets_available` (or ``static=False``), otherwise the
    static :func:`comparison_figure` of the same images (``static=True`` forces it). The view is shown at an
    integer magnification (:func:`display_scale`, nearest neighbour, no browser smoothing) below the
    controls, and the box's display carries a PNG snapshot too (:func:`snapshot_box`), which is what a
    committed notebook shows. Rule used by the notebooks: always display the static figure, and display
    the widget as well whenever this function returns one (in quick runs too).
    """
    names = list(images)
    if len(names) < 2:
        raise ValueError("interactive_comparison needs at least two images")
    shapes = {images[n].shape for n in names}
    if len(shapes) != 1:
        raise ValueError(f"all images must have the same size, got {sorted(shapes)}")
    if static is None:
        static = not widgets_available()
    if static:
        return comparison_figure(images, boxes=boxes, title=title, note=note)

    import ipywidgets as W

    left = left or names[0]
    right = right or names[-1]
    for n in (left, right):
        if n not in images:
            raise ValueError(f"unknown method {n!r}; choose one of {names}")
    ref = images[names[-1]]
    boxes = list(boxes) if boxes is not None else pick_boxes(ref)
    centres = {"image centre": (ref.shape[0] // 2, ref.shape[1] // 2)}
    for k, (top, lft, size) in enumerate(boxes, start=1):
        centres[f"crop {k} at ({top}, {lft})"] = (top + size // 2, lft + size // 2)

    dd_left = W.Dropdown(options=names, value=left, description="left")
    dd_right = W.Dropdown(options=names, value=right, description="right")
    split = W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="split", readout_format=".2f")
    zoom = W.IntSlider(value=1, min=1, max=8, description="zoom")
    centre = W.Dropdown(options=list(centres), value=list(centres)[0], description="centre")
    view = W.Image(format="png")
    caption = W.HTML()
    state: dict = {}

    def redraw(_change=None) -> None:
        img = split_view(images[dd_left.value], images[dd_right.value], split.value, zoom.value,
                         centres[centre.value])
        state["img"], state["k"] = img, set_pixel_image(view, img)
        caption.value = (f"<b>{dd_left.value}</b> | <b>{dd_right.value}</b>, zoom {zoom.value}, shown at "
                         f"{state['k']}x (nearest neighbour)" + (f" &mdash; {note}" if note else ""))

    def snapshot() -> bytes:
        label = f"left: {dd_left.value}  |  right: {dd_right.value}  (zoom {zoom.value}, shown at {state['k']}x)"
        return snapshot_png(state["img"], f"{title}\n{label}" if title else label, state["k"])

    for w in (dd_left, dd_right, split, zoom, centre):
        w.observe(redraw, names="value")
    redraw()
    # the controls come first, the image is at most DISPLAY_WIDTH x DISPLAY_HEIGHT: both fit on one screen
    children = [W.HBox([dd_left, dd_right]), W.HBox([split, zoom, centre]), caption, view]
    if title:
        children.insert(0, W.HTML(f"<h4>{title}</h4>"))
    box = snapshot_box(children, snapshot)
    box.redraw, box.view, box.snapshot = redraw, view, snapshot  # for tests and scripts
    return box


# ------------------------------------------------------------------------------------------------
# -- figures of notebooks 03 and 04
# VGG feature maps and the pixel-vs-feature distance ranking (section 2.2.1, equations 4 and 5);
# the 1D minimax game, the two generator losses, their race, and the discriminator's patch ranking
# (section 2.2.2, equations 2 and 6, Figure 4's discriminator).
# ------------------------------------------------------------------------------------------------

#: Legend labels and colours of the two generator losses (``srgan_lib.losses.ADVERSARIAL_KINDS``).
ADVERSARIAL_STYLE = {"saturating": ("saturating: log(1 - D), equation 2", "C3"),
                     "non_saturating": ("non-saturating: -log D, equation 6 (SRGAN)", "C0")}
_WARNING_RED = "#b00020"


def _check_kinds(kinds, where: str) -> None:
    unknown = [k for k in kinds if k not in ADVERSARIAL_STYLE]
    if unknown or not kinds:
        raise ValueError(f"{where}: the keys must be generator-loss kinds {sorted(ADVERSARIAL_STYLE)}, "
                         f"got {list(kinds)}")


def top_channels(features: np.ndarray, k: int = 6) -> list[int]:
    """The ``k`` channels of a ``(C, h, w)`` feature map with the largest mean activation, largest first."""
    features = np.asarray(features)
    if features.ndim != 3:
        raise ValueError(f"top_channels: want a (C, h, w) feature map, got shape {features.shape}")
    if not 1 <= k <= features.shape[0]:
        raise ValueError(f"top_channels: k must be in 1..{features.shape[0]} (the channels), got {k}")
    means = features.reshape(features.shape[0], -1).mean(axis=1)  # (C,)
    return [int(c) for c in np.argsort(-means, kind="stable")[:k]]


def feature_maps_figure(image: np.ndarray, features: Mapping[str, np.ndarray], k: int = 6,
                        image_title: str = "input", title: str | None = None, note: str | None = None,
                        warn: bool = False) -> Figure:
    """The VGG19 feature maps phi_{i,j} of section 2.2.1 (the maps compared by equation 5) for one image.

    One row per entry of ``features`` (name -> ``(C, h, w)`` array, e.g. ``{"VGG22": ..., "VGG54": ...}``):
    the input ``image`` (uint8 or [0, 1] float, ``(H, W, 3)``), then the ``k`` channels with the largest mean
    activation (:func:`top_channels`), each on its own colour scale and titled ``"VGG22 ch 60 (96x96)"``.
    The suptitle is ``title``, then ``note`` (say which VGG weights were used), in red when ``warn``.
    """
    import matplotlib.pyplot as plt

    if np.asarray(image).ndim != 3:
        raise ValueError(f"feature_maps_figure: image must be (H, W, 3), got shape {np.shape(image)}")
    if not features:
        raise ValueError("feature_maps_figure: no feature maps given")
    maps = {name: np.asarray(f) for name, f in features.items()}
    chosen = {name: top_channels(f, k) for name, f in maps.items()}  # raises on a bad shape or k
    fig, axes = plt.subplots(len(maps), k + 1, figsize=(2.15 * (k + 1), 2.5 * len(maps)), squeeze=False,
                             layout="constrained")
    for row, (name, f) in zip(axes, maps.items()):
        row[0].imshow(_as_display(image))
        row[0].set_title(image_title, fontsize=9)
        for ax, ch in zip(row[1:], chosen[name]):
            ax.imshow(f[ch], cmap="viridis", interpolation="nearest")
            ax.set_title(f"{name} ch {ch} ({f.shape[1]}x{f.shape[2]})", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    heading = " | ".join(t for t in (title, note) if t)
    if heading:
        fig.suptitle(heading, fontsize=11, color=_WARNING_RED if warn else "black")
    return fig


def ranks(values: Sequence[float]) -> list[int]:
    """Rank of each value, 1 for the smallest (for distances: 1 = judged closest); ties keep their order."""
    order = np.argsort(np.asarray(values, dtype=np.float64), kind="stable")
    out = [0] * len(order)
    for rank, k in enumerate(order, start=1):
        out[int(k)] = rank
    return out


def distance_ranking_figure(patches: Mapping[str, np.ndarray], scores: Mapping[str, Sequence[float]],
                            title: str = "distortions of one patch, ranked by each distance (#1 = closest)",
                            note: str | None = None, warn: bool = False) -> Figure:
    """Pixel MSE (equation 4) against VGG feature distances (equation 5): how each ranks the same distortions.

    ``patches``: name -> uint8 (or [0, 1] float) image; the first is the reference, the others its distortions.
    ``scores``: distance name -> one value per distortion, in the order of ``patches`` (e.g.
    ``{"pixel MSE (eq. 4)": [...], "VGG22 (eq. 5)": [...]}``). Top row: the patches, each distortion titled
    with its rank under every distance (:func:`ranks`; the short name is the distance's name up to `` (``).
    Bottom: one group of bars per distortion, every distance divided by its value for the *first* distortion,
    so that distances of very different scales share one axis. ``note`` titles the bar panel (say which VGG
    weights were used), in red when ``warn``.
    """
    import matplotlib.pyplot as plt

    names = list(patches)
    distortions = names[1:]
    if not distortions:
        raise ValueError("distance_ranking_figure: give the reference and at least one distortion")
    if not scores:
        raise ValueError("distance_ranking_figure: no distances given")
    for metric, vals in scores.items():
        if len(vals) != len(distortions):
            raise ValueError(f"distance_ranking_figure: {metric!r} has {len(vals)} values for "
                             f"{len(distortions)} distortions {distortions}")
        if not vals[0] > 0:
            raise ValueError(f"distance_ranking_figure: {metric!r} is {vals[0]} for {distortions[0]!r}, "
                             "the distortion every bar is divided by; it must be positive")
    rank_of = {m: ranks(v) for m, v in scores.items()}
    short = {m: m.split(" (")[0] for m in scores}
    fig = plt.figure(figsize=(3 * len(names), 6.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.15, 1])
    for ax, name in zip(top.subplots(1, len(names), squeeze=False)[0], names):
        ax.imshow(_as_display(patches[name]))
        if name == names[0]:
            ax.set_title(name, fontsize=10)
        else:
            k = distortions.index(name)
            ax.set_title(name + "\n" + " | ".join(f"{short[m]} #{rank_of[m][k]}" for m in scores), fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    top.suptitle(title, fontsize=11)
    ax = bottom.subplots()
    width = 0.8 / len(scores)
    for m, (metric, vals) in enumerate(scores.items()):
        rel = np.asarray(vals, dtype=np.float64) / vals[0]  # (n_distortions,)
        ax.bar(np.arange(len(distortions)) + (m - (len(scores) - 1) / 2) * width, rel, width, label=metric)
    ax.set_xticks(np.arange(len(distortions)), distortions)
    ax.set_ylabel(f"distance / distance of the {distortions[0].split(' (')[0]}")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.legend()
    if note:
        ax.set_title(note, fontsize=10, color=_WARNING_RED if warn else "black")
    return fig


def toy_gan_figure(data: np.ndarray, snapshots: Mapping[int, tuple[np.ndarray, np.ndarray]], grid: np.ndarray,
                   bins: int = 96, ymax: float = 1.6,
                   title: str = ("The minimax game of equation 2 in 1D: G's samples (orange) move onto the data "
                                 "(grey); D(x) (blue) is D's probability that x is real")) -> Figure:
    """Equation 2's game in one dimension (section 2.2.2): one panel per snapshot of a toy GAN's training.

    ``data``: samples of the real distribution (a grey histogram). ``snapshots``: G step -> (G's samples, D's
    probability "real" at the points of ``grid``), drawn as an orange histogram and a blue curve, panels in
    step order. Histograms are densities over ``bins`` bins spanning ``grid``; the y axis stops at ``ymax`` so
    that D's curve (0 to 1) stays readable, and a histogram taller than that is marked with its peak value.
    """
    import matplotlib.pyplot as plt

    grid = np.asarray(grid, dtype=np.float64).ravel()
    if not snapshots:
        raise ValueError("toy_gan_figure: no snapshots given")
    for step, (_, curve) in snapshots.items():
        if np.asarray(curve).size != grid.size:
            raise ValueError(f"toy_gan_figure: D's curve at step {step} has {np.asarray(curve).size} points, "
                             f"the grid {grid.size}")
    edges = np.linspace(grid[0], grid[-1], bins + 1)
    steps = sorted(snapshots)
    fig, axes = plt.subplots(1, len(steps), figsize=(2.5 * len(steps), 3.2), sharey=True, squeeze=False,
                             layout="constrained")
    for ax, step in zip(axes[0], steps):
        samples, curve = snapshots[step]
        ax.hist(data, bins=edges, density=True, color="0.75", label="real data")
        heights, _, _ = ax.hist(samples, bins=edges, density=True, color="C1", alpha=0.7, label="G(z)")
        ax.plot(grid, np.asarray(curve).ravel(), color="C0", lw=2, label="D(x)")
        if heights.max() > ymax:  # a narrow spike of G's samples: say how tall it is
            i = int(np.argmax(heights))
            ax.annotate(f"G(z) peak\n{heights[i]:.1f}, off scale", ((edges[i] + edges[i + 1]) / 2, ymax),
                        xytext=(8, -4), textcoords="offset points", ha="left", va="top", fontsize=8, color="C1")
        ax.set_title(f"after {step} steps", fontsize=10)
        ax.set_xlabel("x")
        ax.set_ylim(0, ymax)
    axes[0, 0].legend(loc="upper right", fontsize=8)  # G's first samples are far left, D's curve below 1
    fig.suptitle(title, fontsize=12)
    return fig


def generator_loss_figure(d_fake: np.ndarray, losses: Mapping[str, np.ndarray], gradients: Mapping[str, np.ndarray],
                          early: float = 0.1) -> Figure:
    """The two generator losses of section 2.2.2 against D(G(x)): equation 2's log(1 - D) and equation 6's
    -log D (left), and the size of the gradient each sends back through D's logit (right).

    ``losses`` and ``gradients``: kind (``"saturating"``, ``"non_saturating"``) -> values at the points
    ``d_fake``; the right panel plots ``|gradient|``. The band ``0 <= D(G(x)) <= early`` marks early
    training, where D rejects the generated images.
    """
    import matplotlib.pyplot as plt

    _check_kinds(list(losses), "generator_loss_figure")
    if set(gradients) != set(losses):
        raise ValueError(f"generator_loss_figure: losses for {sorted(losses)} but gradients for {sorted(gradients)}")
    d_fake = np.asarray(d_fake, dtype=np.float64)
    for kind in losses:
        for what, values in (("loss", losses[kind]), ("gradient", gradients[kind])):
            if np.asarray(values).shape != d_fake.shape:
                raise ValueError(f"generator_loss_figure: {kind} {what} has shape {np.shape(values)}, "
                                 f"D(G(x)) {d_fake.shape}")
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    for kind in losses:
        label, colour = ADVERSARIAL_STYLE[kind]
        ax_loss.plot(d_fake, np.asarray(losses[kind]), color=colour, lw=2, label=label)
        ax_grad.plot(d_fake, np.abs(np.asarray(gradients[kind])), color=colour, lw=2, label=label)
    for ax in (ax_loss, ax_grad):
        ax.axvspan(0, early, color="0.9")
        ax.set_xlabel("D(G(x)): the discriminator's belief that the generated image is real")
        ax.legend()
    ax_loss.text(0.01, 0.05, "early training:\nD rejects the fakes", transform=ax_loss.transAxes, fontsize=9)
    ax_loss.set_ylabel("generator loss (minimised)")
    ax_loss.set_title("the two generator losses")
    ax_grad.set_ylabel("|d loss / d logit|")
    ax_grad.set_title("the gradient that reaches G through D's logit")
    return fig


def saturation_race_figure(runs: Mapping[str, Mapping[str, Sequence[float]]], data_mean: float,
                           title: str = ("Same start, same D head start: the saturating loss stalls, "
                                         "the non-saturating one escapes")) -> Figure:
    """The saturating and non-saturating generator losses (section 2.2.2, equations 2 and 6) racing from one start.

    ``runs``: kind -> a toy GAN's record with ``"mean"`` (mean of G's samples after every G step) and ``"d_fake"``
    (mean D(G(z)), in (0, 1]). Left: where G's samples are, with the data's mean dashed; right: how real D
    finds them, on a log axis (the saturating run's D(G(z)) sinks by orders of magnitude).
    """
    import matplotlib.pyplot as plt

    _check_kinds(list(runs), "saturation_race_figure")
    for kind, run in runs.items():
        missing = [key for key in ("mean", "d_fake") if key not in run]
        if missing:
            raise ValueError(f"saturation_race_figure: the {kind} run has no {missing}")
        if not np.all(np.asarray(run["d_fake"], dtype=np.float64) > 0):
            raise ValueError(f"saturation_race_figure: the {kind} run's D(G(z)) must be > 0 for the log axis")
    fig, (ax_mean, ax_d) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
    for kind, run in runs.items():
        label, colour = ADVERSARIAL_STYLE[kind]
        ax_mean.plot(np.asarray(run["mean"]), color=colour, lw=2, label=label)
        ax_d.semilogy(np.asarray(run["d_fake"]), color=colour, lw=2, label=label)
    ax_mean.axhline(data_mean, color="0.5", ls="--", label="data mean")
    ax_mean.set_ylabel("mean of G's samples")
    ax_mean.set_title("where the generator's samples are")
    ax_d.set_ylabel("mean D(G(z))")
    ax_d.set_title("how real D finds them")
    for ax in (ax_mean, ax_d):
        ax.set_xlabel("generator step (after D's head start)")
        ax.legend(fontsize=9)
    fig.suptitle(title, fontsize=12)
    return fig


def patch_ranking_figure(real: np.ndarray, fake: np.ndarray, p_real: np.ndarray, p_fake: np.ndarray,
                         fake_name: str = "generated", k: int = 6, title: str | None = None) -> Figure:
    """Patches ranked by a discriminator (Figure 4's D, section 2.2.2): what it finds most and least real.

    ``real``, ``fake``: ``(N, H, W, 3)`` patches (uint8, or floats in [0, 1]); ``p_real``, ``p_fake``: D's
    probability "real" for each (the sigmoid of its logit). Four rows of ``k`` patches: the most real of the
    pooled real and ``fake_name`` patches, the least real, the ``fake_name`` patches it takes most for real,
    and the real patches it doubts most; each titled with its source (green real, red ``fake_name``) and
    ``D = p``.
    """
    import matplotlib.pyplot as plt

    real, fake = np.asarray(real), np.asarray(fake)
    p_real, p_fake = np.asarray(p_real, dtype=np.float64).ravel(), np.asarray(p_fake, dtype=np.float64).ravel()
    for what, imgs, probs in (("real", real, p_real), (fake_name, fake, p_fake)):
        if imgs.ndim != 4 or imgs.shape[-1] != 3:
            raise ValueError(f"patch_ranking_figure: {what} patches must be (N, H, W, 3), got {imgs.shape}")
        if len(imgs) != len(probs):
            raise ValueError(f"patch_ranking_figure: {len(imgs)} {what} patches but {len(probs)} probabilities")
        if not np.all((probs >= 0) & (probs <= 1)):
            raise ValueError(f"patch_ranking_figure: {what} probabilities must lie in [0, 1] (apply the sigmoid)")
    if not 1 <= k <= min(len(real), len(fake)):
        raise ValueError(f"patch_ranking_figure: k must be in 1..{min(len(real), len(fake))}, got {k}")
    images = np.concatenate([real, fake])  # (N_real + N_fake, H, W, 3)
    probs = np.concatenate([p_real, p_fake])  # (N_real + N_fake,)
    labels = ["real"] * len(real) + [fake_name] * len(fake)
    order = np.argsort(-probs, kind="stable")
    rows = [("most real of all", order[:k]),
            ("least real of all", order[::-1][:k]),
            (f"{fake_name} it takes\nfor real", np.argsort(-p_fake, kind="stable")[:k] + len(real)),
            ("real patches it\ndoubts most", np.argsort(p_real, kind="stable")[:k])]
    fig, axes = plt.subplots(len(rows), k, figsize=(1.9 * k, 2.3 * len(rows)), squeeze=False, layout="constrained")
    for axes_row, (heading, idx) in zip(axes, rows):
        for ax, i in zip(axes_row, idx):
            ax.imshow(_as_display(images[i]), interpolation="nearest")
            ax.set_title(f"{labels[i]}\nD = {probs[i]:.3f}", fontsize=9, color="C2" if labels[i] == "real" else "C3")
            ax.set_xticks([])
            ax.set_yticks([])
        axes_row[0].set_ylabel(heading, fontsize=10)
    h, w = real.shape[1:3]
    fig.suptitle(title or f"Held-out patches ({h}x{w}) ranked by the discriminator", fontsize=11)
    return fig


# ------------------------------------------------------------------------------------------------
# The perception-distortion trade-off (Blau and Michaeli, CVPR 2018; the paper's Table 1 vs MOS)
# ------------------------------------------------------------------------------------------------

def high_frequency_ratio(sr: np.ndarray, hr: np.ndarray, crop_border: int = 4) -> float:
    """Fine-detail energy of ``sr`` relative to ``hr``: mean squared Laplacian of luma, SR over HR.

    A no-reference texture statistic (the reference is used only to normalise): 1.0 means as much
    high-frequency energy as the original, below 1 a blurrier image (MSE-trained SRResNet, bicubic),
    near or above 1 a sharper one (SRGAN; the detail may be invented, see :func:`error_map_figure`).
    It is *not* a perceptual-quality score such as MOS; it tracks the "sharpness" axis only.
    """
    from scipy.ndimage import laplace

    def energy(img: np.ndarray) -> float:
        y = img[..., :3].astype(np.float64).mean(axis=2) / 255.0
        if crop_border:
            y = y[crop_border:-crop_border, crop_border:-crop_border]
        return float(np.mean(laplace(y) ** 2))

    if sr.shape != hr.shape:
        raise ValueError(f"high_frequency_ratio: SR {sr.shape} and HR {hr.shape} differ in size")
    return energy(sr) / max(energy(hr), 1e-12)


def perception_distortion_figure(points: Sequence[Mapping], perceptual_label: str = "high-frequency energy ratio",
                                 target: float | None = 1.0, note: str | None = None, log: bool = True):
    """PSNR (distortion, x) against a perceptual measure (y) for labelled points.

    ``points``: dicts with ``label``, ``psnr``, ``perceptual`` and optionally ``group`` (points of one
    group, such as the checkpoints of one run, are joined by a line in order). ``target``: the value of the
    original image on the perceptual axis (a dashed line). ``log``: a logarithmic perceptual axis, so that
    methods at a few hundredths and the original at 1 are all readable. Each label goes to whichever of four
    places around its point is farthest from the other points and the labels already placed, and the
    legend sits outside the axes, so that close points stay readable.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.4, 4.6))
    groups: dict[str, list[Mapping]] = {}
    for p in points:
        groups.setdefault(p.get("group") or p["label"], []).append(p)
    for g, pts in groups.items():
        ax.plot([p["psnr"] for p in pts], [p["perceptual"] for p in pts], marker="o",
                ls="-" if len(pts) > 1 else "none", label=g)
    if target is not None:
        ax.axhline(target, ls="--", color="grey")
    if log:
        ax.set_yscale("log")
    xs = [p["psnr"] for p in points]
    if xs:
        pad = max(0.25, 0.08 * (max(xs) - min(xs)))
        ax.set_xlim(min(xs) - pad, max(xs) + 3 * pad)  # room on the right for labels
    ax.autoscale_view()
    to_px = ax.transData.transform
    occupied = [to_px((p["psnr"], p["perceptual"])) for p in points]  # pixels: points, then placed labels
    offsets = [(6, 7, "left"), (6, -11, "left"), (-6, 7, "right"), (-6, -11, "right")]
    for p in points:
        xy = to_px((p["psnr"], p["perceptual"]))

        def clearance(off: tuple[int, int, str]) -> float:
            centre = xy + np.array([off[0] + (20 if off[2] == "left" else -20), off[1]])
            return min(float(np.hypot(*(centre - q))) for q in occupied)

        best = max(offsets, key=clearance)
        ax.annotate(p["label"], (p["psnr"], p["perceptual"]), fontsize=7.5, xytext=best[:2],
                    textcoords="offset points", ha=best[2], va="center")
        occupied.append(xy + np.array([best[0] + (20 if best[2] == "left" else -20), best[1]]))
    if target is not None:
        ax.annotate("original", (ax.get_xlim()[0], target), fontsize=8, va="bottom")
    ax.set_xlabel("PSNR (dB), higher = less distortion")
    ax.set_ylabel(perceptual_label + (" (log scale)" if log else ""))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if note:
        ax.set_title(note, fontsize=9, color="#b00020")
    fig.tight_layout()
    return fig


# -- figures of notebooks 01 and 02
# Each function draws one figure from numbers the notebook computed (the computation is the lesson and stays
# in the notebook), checks its input, and returns the Figure without showing it.

def _grid_colours(n: int) -> np.ndarray:
    """``n`` distinct RGBA colours: matplotlib's tab10 cycle, or samples of a hue circle beyond ten."""
    import matplotlib.pyplot as plt

    return plt.colormaps["tab10"](np.arange(n)) if n <= 10 else plt.colormaps["hsv"](np.arange(n) / n)


def _check_window(box: Box, h: int, w: int, what: str) -> None:
    top, left, size = box
    if size < 1 or top < 0 or left < 0 or top + size > h or left + size > w:
        raise ValueError(f"{what}: the window (top={top}, left={left}, size={size}) is not inside the "
                         f"{h} x {w} image")


def upsampling_cost_figure(layers: Mapping[str, tuple[int, int]], networks: Mapping[str, int],
                           layers_title: str = "one upsampling layer",
                           networks_title: str = "the whole network") -> Figure:
    """What upsampling costs, in floating-point operations: single layers (left) and whole networks (right).

    Notebook 01, section 3: the sub-pixel convolution of the paper's section 2.1 and Figure 4 (after ESPCN)
    costs what a resize-convolution or a transposed convolution costs, and a network that upsamples last runs
    its body on r^2 times fewer pixels. ``layers``: label -> (parameters, FLOPs) of one layer; each bar is its
    MFLOPs, labelled with its parameters in thousands. ``networks``: label -> FLOPs of one forward pass; each
    bar is its GFLOPs, labelled with its value and, after the first, its ratio to the first.
    """
    import matplotlib.pyplot as plt

    if not layers or not networks:
        raise ValueError("upsampling_cost_figure: needs at least one layer and one network")
    for label, (params, flops) in layers.items():
        if params < 0 or flops < 0:
            raise ValueError(f"upsampling_cost_figure: layer {label!r} has a negative count ({params}, {flops})")
    if min(networks.values()) <= 0:
        raise ValueError(f"upsampling_cost_figure: network FLOPs must be positive, got {dict(networks)}")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
    names = list(layers)
    bars = ax1.bar(names, [layers[n][1] / 1e6 for n in names], color=[f"C{i % 10}" for i in range(len(names))])
    ax1.bar_label(bars, [f"{layers[n][0] / 1e3:.0f}k params" for n in names], fontsize=9, padding=2)
    ax1.set_ylabel("MFLOPs per call")
    ax1.set_title(layers_title)
    ax1.margins(y=0.15)
    nets = list(networks)
    first = networks[nets[0]]
    palette = ["C0", "C3", "C1", "C2", "C4", "C5", "C6", "C7", "C8", "C9"]
    bars = ax2.bar(nets, [networks[n] / 1e9 for n in nets], color=[palette[i % 10] for i in range(len(nets))])
    ax2.bar_label(bars, [f"{networks[n] / 1e9:.2f}" + ("" if i == 0 else f" ({networks[n] / first:.1f}x)")
                         for i, n in enumerate(nets)], fontsize=9, padding=2)
    ax2.set_ylabel("GFLOPs per call")
    ax2.set_title(networks_title)
    ax2.margins(y=0.15)
    return fig


def subkernel_interleave_figure(sub_kernels: np.ndarray, kernel: np.ndarray, title: str | None = None) -> Figure:
    """The r^2 k x k kernels of a sub-pixel convolution beside the rk x rk kernel of the transposed convolution
    that equals it, every weight printed and coloured by the sub-kernel it comes from.

    Notebook 01, section 3: Figure 4's sub-pixel blocks (section 2.1) are transposed convolutions (Shi et al.,
    arXiv:1609.07009). ``sub_kernels``: (r^2, k, k), sub-kernel i r + j paints sub-position (i, j) of every
    r x r block; ``kernel``: (r k, r k). The weights must be distinct (number them 1, 2, ...): each weight of
    ``kernel`` is traced, by value, to the one sub-kernel that holds it, and a weight held by none raises
    ValueError.
    """
    import matplotlib.pyplot as plt

    sub = np.asarray(sub_kernels, dtype=np.float64)
    big = np.asarray(kernel, dtype=np.float64)
    if sub.ndim != 3 or sub.shape[1] != sub.shape[2]:
        raise ValueError(f"subkernel_interleave_figure: sub_kernels must be (r^2, k, k), got shape {sub.shape}")
    n, k = sub.shape[0], sub.shape[1]
    r = int(round(n ** 0.5))
    if r * r != n:
        raise ValueError(f"subkernel_interleave_figure: {n} sub-kernels is not a square number r^2")
    if big.shape != (r * k, r * k):
        raise ValueError(f"subkernel_interleave_figure: kernel must be ({r * k}, {r * k}) for {n} sub-kernels "
                         f"of {k} x {k}, got {big.shape}")
    if np.unique(sub).size != sub.size:
        raise ValueError("subkernel_interleave_figure: the sub-kernels' weights must be distinct, so that each "
                         "weight of the large kernel can be traced to its sub-kernel")
    holder = {float(v): s for s in range(n) for v in sub[s].ravel()}
    source = np.empty(big.shape, dtype=int)  # (r k, r k): the sub-kernel each weight came from
    for (u, v), value in np.ndenumerate(big):
        if float(value) not in holder:
            raise ValueError(f"subkernel_interleave_figure: kernel weight {value:g} at ({u}, {v}) is in no sub-kernel")
        source[u, v] = holder[float(value)]
    colours = _grid_colours(n)
    fig, axes = plt.subplots(1, n + 1, figsize=(2.2 * (n + r), 3), layout="constrained",
                             gridspec_kw={"width_ratios": [1] * n + [r]})
    for s, ax in enumerate(axes[:n]):
        ax.imshow(np.broadcast_to(colours[s], (k, k, 4)))
        for (a, b), value in np.ndenumerate(sub[s]):
            ax.text(b, a, f"{value:g}", ha="center", va="center")
        ax.set_title(f"sub-kernel {s} = (i={s // r}, j={s % r})", fontsize=9)
    axes[n].imshow(colours[source])
    for (u, v), value in np.ndenumerate(big):
        axes[n].text(v, u, f"{value:g}", ha="center", va="center")
    axes[n].set_title(f"the transposed conv's {r * k}x{r * k} kernel", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return fig


def checkerboard_figure(panels: Mapping[str, np.ndarray], zoom: Box, zoom_title: str = "zoom") -> Figure:
    """Images in grey side by side (top row), each stretched to its own full grey range, and one window of each
    enlarged with nearest-neighbour pixels (bottom row), where a pattern of period r shows pixel by pixel.

    Notebook 01, section 4: the checkerboard of a fresh sub-pixel convolution and its removal by ICNR
    (Aitken et al. 2017), for the upsampling blocks of the paper's Figure 4. ``panels``: title -> (H, W) or
    (H, W, C) array (the mean over C is shown). ``zoom``: (top, left, size) in the pixels of the largest panel;
    a panel s times smaller (the LR input) shows the window divided by s, the same part of the picture.
    """
    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("checkerboard_figure: no panels")
    grey = {}
    for name, img in panels.items():
        g = np.asarray(img, dtype=np.float64)
        if g.ndim == 3:
            g = g.mean(axis=2)
        if g.ndim != 2:
            raise ValueError(f"checkerboard_figure: panel {name!r} must be (H, W) or (H, W, C), got {np.shape(img)}")
        span = g.max() - g.min()
        grey[name] = (g - g.min()) / span if span > 0 else np.zeros_like(g)
    big_h, big_w = max(g.shape[0] for g in grey.values()), max(g.shape[1] for g in grey.values())
    _check_window(zoom, big_h, big_w, "checkerboard_figure")
    top, left, size = zoom
    fig, axes = plt.subplots(2, len(grey), figsize=(3.5 * len(grey), 7), layout="constrained", squeeze=False)
    for col, (name, g) in enumerate(grey.items()):
        s = big_h // g.shape[0]
        if s * g.shape[0] != big_h or s * g.shape[1] != big_w or top % s or left % s or size % s:
            raise ValueError(f"checkerboard_figure: panel {name!r} of {g.shape[0]} x {g.shape[1]} is not the "
                             f"{big_h} x {big_w} grid shrunk by an integer factor that divides the window {zoom}")
        axes[0, col].imshow(g, cmap="gray", vmin=0, vmax=1)
        axes[0, col].set_title(name, fontsize=10)
        axes[1, col].imshow(g[top // s : (top + size) // s, left // s : (left + size) // s], cmap="gray",
                            vmin=0, vmax=1, interpolation="nearest")
        axes[1, col].set_title(zoom_title, fontsize=10)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def training_progress_figure(steps: Sequence[int], psnr: Sequence[float], baselines: Mapping[str, float],
                             images: Mapping[str, np.ndarray], box: Box | None = None, label: str = "network",
                             ylabel: str = "PSNR [dB]", images_title: str | None = None) -> Figure:
    """Held-out PSNR against training step with the baselines as horizontal lines (left), beside crops of the
    results, two per row (right).

    Notebook 01, section 5: ESPCN trained with the pixel MSE of section 3.2, against the bicubic and
    nearest-neighbour baselines of the paper's Table 2. The PSNR axis spans the baselines and every point but
    the first, with 1 dB to spare: the first point, an untrained network, may lie far below, and a point under
    the axis is drawn on its bottom edge as a triangle labelled with its value. ``images``: title -> uint8 or
    [0, 1] float (H, W, 3), all the same size; ``box``: (top, left, size), the crop shown of each (default the
    whole image).
    """
    import matplotlib.pyplot as plt

    steps, psnr = list(steps), [float(p) for p in psnr]
    if not psnr or len(steps) != len(psnr):
        raise ValueError(f"training_progress_figure: {len(steps)} steps and {len(psnr)} PSNR values; need as "
                         "many of each, at least one")
    if not images:
        raise ValueError("training_progress_figure: no images")
    shapes = {img.shape[:2] for img in images.values()}
    if len(shapes) != 1:
        raise ValueError(f"training_progress_figure: all images must have the same size, got {sorted(shapes)}")
    h, w = shapes.pop()
    top, left, size = box if box is not None else (0, 0, 0)
    if box is not None:
        _check_window(box, h, w, "training_progress_figure")
    fig = plt.figure(figsize=(12, 6.8), layout="constrained")
    left_fig, right_fig = fig.subfigures(1, 2, width_ratios=[1, 2.2])
    ax = left_fig.subplots()
    ax.plot(steps, psnr, "o-", label=label)
    styles = ["--", ":", "-.", (0, (5, 1))]
    for i, (name, value) in enumerate(baselines.items()):
        ax.axhline(value, color=f"C{i + 1}", ls=styles[i % len(styles)], label=name)
    kept = [*baselines.values(), *(psnr[1:] or psnr)]
    bottom, top_y = min(kept) - 1, max([*baselines.values(), *psnr]) + 1
    ax.set_ylim(bottom, top_y)
    for s, p in zip(steps, psnr):
        if p < bottom:  # off the scale: drawn on the bottom edge, with its value
            ax.plot(s, bottom, marker="v", ms=9, color="C0", clip_on=False)
            ax.annotate(f"step {s}: {p:.1f} dB\n(off the scale)", (s, bottom), xytext=(40, 12),
                        textcoords="offset points", fontsize=8, arrowprops={"arrowstyle": "->", "lw": 0.8})
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.set_title("held-out PSNR during training")
    cols = 2 if len(images) > 1 else 1
    grid = right_fig.subplots(-(-len(images) // cols), cols, squeeze=False)
    for ax_img, (name, img) in zip(grid.flat, images.items()):
        ax_img.imshow(_as_display(img[top : top + size, left : left + size] if box is not None else img))
        ax_img.set_title(name, fontsize=10)
    for ax_img in grid.flat:
        ax_img.set_xticks([])
        ax_img.set_yticks([])
    for ax_img in grid.flat[len(images):]:
        ax_img.set_axis_off()
    if images_title:
        right_fig.suptitle(images_title)
    return fig


def prelu_slopes_figure(slopes: Sequence[float], init: float = 0.25, title: str = "learned slope a of each PReLU",
                        first_label: str = "first PReLU") -> Figure:
    """PReLU(x) = max(0, x) + a min(0, x) (He et al. 2015), the activation of the paper's Figure 4 (section 2.1).

    Notebook 02, section 2. Left: the function for ReLU (a = 0), for the initial slope ``init`` and for the first
    learned slope (``first_label``), on [-2, 2]. Right: every learned slope as a bar, in network order (input to
    output), against a dashed line at ``init``.
    """
    import matplotlib.pyplot as plt

    a = np.asarray(slopes, dtype=np.float64)
    if a.ndim != 1 or a.size == 0 or not np.isfinite(a).all():
        raise ValueError(f"prelu_slopes_figure: need a non-empty list of finite slopes, got {slopes!r}")
    x = np.linspace(-2, 2, 101)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    for slope, name in [(0.0, "ReLU"), (init, f"PReLU at init (a = {init:g})"),
                        (a[0], f"{first_label}, learned a = {a[0]:.2f}")]:
        axes[0].plot(x, np.where(x > 0, x, slope * x), label=name)
    axes[0].legend(fontsize=8)
    axes[0].set_title("PReLU(x) = max(0, x) + a·min(0, x)")
    axes[0].set_xlabel("x")
    axes[0].grid(alpha=0.3)
    axes[1].bar(np.arange(a.size), a)
    axes[1].axhline(init, ls="--", color="grey", label=f"initial a = {init:g}")
    axes[1].xaxis.get_major_locator().set_params(integer=True)
    axes[1].set_xlabel("PReLU layer, input to output")
    axes[1].set_ylabel("a")
    axes[1].set_title(title)
    axes[1].legend(fontsize=8)
    return fig


def model_card_figure(history: Sequence[Mapping], curve: Sequence[Mapping], bicubic: float,
                      metric: str = "set5_psnr_standard", metric_title: str = "Set5 PSNR-Y (standard flavour)") -> Figure:
    """A shipped model's training record, from its model card: the logged loss against step (left, log scale)
    and the score of its saved snapshots against the bicubic baseline (right).

    Notebook 02, section 3: the pixel MSE of equation 4, trained as in section 3.2, scored as in Table 2.
    ``history``: the card's log; entries with ``step`` and ``loss`` are plotted, others skipped. ``curve``:
    snapshots with ``step``, ``metric`` and optionally ``bn``: ``"running statistics"`` (the default; joined by
    a line) or ``"recalibrated"`` (batch-norm statistics recomputed for the weights; stars).
    """
    import matplotlib.pyplot as plt

    losses = [(h["step"], h["loss"]) for h in history if "loss" in h]
    if not losses:
        raise ValueError("model_card_figure: the history has no entry with a loss")
    if not curve:
        raise ValueError("model_card_figure: the curve has no snapshot")
    kinds = {"running statistics": {"marker": "o", "ms": 4}, "recalibrated": {"marker": "*", "ms": 12, "ls": ""}}
    for c in curve:
        if c.get("bn", "running statistics") not in kinds:
            raise ValueError(f"model_card_figure: snapshot at step {c.get('step')} has bn={c['bn']!r}; "
                             f"expected one of {list(kinds)}")
        if metric not in c:
            raise ValueError(f"model_card_figure: snapshot at step {c.get('step')} has no {metric!r}")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    axes[0].plot([s for s, _ in losses], [v for _, v in losses])
    axes[0].set_yscale("log")
    axes[0].set_title("training loss (MSE on [-1, 1])")
    axes[0].set_xlabel("step")
    axes[0].grid(alpha=0.3, which="both")
    for kind, style in kinds.items():
        pts = [c for c in curve if c.get("bn", "running statistics") == kind]
        if pts:
            axes[1].plot([c["step"] for c in pts], [c[metric] for c in pts], label=f"snapshot, BN {kind}", **style)
    axes[1].axhline(bicubic, ls="--", color="grey", label="bicubic")
    axes[1].set_title(metric_title)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("dB")
    axes[1].grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="lower right")
    return fig


def baseline_gap_figure(rows: Sequence[Mapping], datasets: Sequence[str], methods: Mapping[str, str],
                        reference: str = "bicubic", reference_label: str | None = None) -> Figure:
    """How far the baseline numbers move with the protocol (the paper's section 3.1 and Table 2).

    Notebook 02, section 4. Left: the PSNR of each of ``methods`` minus the ``reference`` method's, both in the
    paper flavour, one group of bars per dataset. Right: the ``reference`` method's SSIM in the paper flavour
    minus the standard flavour. Every bar is labelled with its value. ``rows``: rows of
    :func:`srgan_lib.evaluate.table2` (``method``, ``dataset``, ``flavour``, ``psnr``, ``ssim``); ``methods``:
    method -> legend label; ``reference_label`` names the reference in the labels (default ``reference``). A
    missing row raises ValueError naming it.
    """
    import matplotlib.pyplot as plt

    if not datasets or not methods:
        raise ValueError("baseline_gap_figure: needs at least one dataset and one method")
    by = {(r["method"], r["dataset"], r["flavour"]): r for r in rows}
    ref_name = reference_label or reference

    def row(method: str, dataset: str, flavour: str) -> Mapping:
        try:
            return by[(method, dataset, flavour)]
        except KeyError:
            raise ValueError(f"baseline_gap_figure: no row for method {method!r}, dataset {dataset!r}, "
                             f"flavour {flavour!r}") from None

    x = np.arange(len(datasets))
    width = 0.8 / len(methods)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    for i, (m, name) in enumerate(methods.items()):
        gaps = [row(m, d, "paper")["psnr"] - row(reference, d, "paper")["psnr"] for d in datasets]
        bars = axes[0].bar(x + i * width, gaps, width, label=name)
        axes[0].bar_label(bars, fmt="%+.2f", fontsize=7, padding=2)
    axes[0].axhline(0, color="black", lw=0.8)
    axes[0].set_xticks(x + width * (len(methods) - 1) / 2, list(datasets))
    axes[0].set_ylabel(f"PSNR - {ref_name} [dB]")
    axes[0].set_title(f"what a different {ref_name} moves (paper flavour)")
    axes[0].margins(y=0.15)
    axes[0].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=1)
    gap = [row(reference, d, "paper")["ssim"] - row(reference, d, "standard")["ssim"] for d in datasets]
    bars = axes[1].bar(list(datasets), gap, color="tab:purple")
    axes[1].bar_label(bars, fmt="%+.3f", fontsize=8, padding=2)
    axes[1].axhline(0, color="black", lw=0.8)
    axes[1].set_ylabel("SSIM difference")
    axes[1].set_title(f"SSIM of the same {ref_name} images:\npaper flavour minus standard flavour")
    axes[1].margins(y=0.15)
    return fig


def image_row_figure(images: Mapping[str, np.ndarray], title: str | None = None, width: float = 2.6) -> Figure:
    """Images in one row, each with its title, nearest-neighbour pixels, in their own sizes (a small LR image
    fills its panel like the large ones); uint8, [0, 1] floats (clipped) or (H, W) grey in [0, 1].

    Notebook 02, section 7: the paper's Figure 3 argument (section 1), several sharp candidates with one LR
    image and their pixel-wise mean.
    """
    import matplotlib.pyplot as plt

    if not images:
        raise ValueError("image_row_figure: no images")
    for name, img in images.items():
        if img.ndim not in (2, 3):
            raise ValueError(f"image_row_figure: {name!r} must be (H, W) or (H, W, C), got shape {img.shape}")
    fig, axes = plt.subplots(1, len(images), figsize=(width * len(images), width + 0.7), layout="constrained",
                             squeeze=False)
    for ax, (name, img) in zip(axes[0], images.items()):
        grey = {"cmap": "gray", "vmin": 0, "vmax": 255 if img.dtype == np.uint8 else 1} if img.ndim == 2 else {}
        ax.imshow(_as_display(img), interpolation="nearest", **grey)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig
