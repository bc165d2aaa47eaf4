"""The interactive comparison of methods (a split view with zoom, for the
visual comparisons of section 3.4) and the pixel-exact display it and the MOS study (:mod:`srgan_lib.figures.study`) share.

Widget images are magnified by an integer factor with nearest-neighbour pixels (:func:`display_scale`), and
every widget's display also carries a static PNG snapshot (:func:`snapshot_box`), which is what GitHub, nbval and
an untrusted notebook show. Where no widget can render (:func:`widgets_available`), the static
:func:`srgan_lib.figures.viz.comparison_figure` is returned instead.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .viz import Box, comparison_figure, pick_boxes


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
