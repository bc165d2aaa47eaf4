"""How the paper makes low-resolution images: bicubic downsampling by r = 4 (section 3.2).

Two implementations, one for each job:

``imresize_matlab``  (evaluation sets, section 3.1)
    The MATLAB ``imresize(img, 1/4, 'bicubic')`` of the paper's era, reproduced exactly. The paper took
    its bicubic baseline and test inputs from the SelfExSR supplementary material, which were made with
    it; this function reproduces those published LR PNGs bit for bit (``tests/test_resize.py``). Recipe:

    - Keys' cubic convolution kernel with a = -0.5;
    - when shrinking (scale s < 1) the kernel is stretched by 1/s, which low-pass filters the image
      (antialiasing), so ``ceil(4 / s) + 2`` taps contribute to each output pixel;
    - output pixel i (1-based) samples the input at ``u = i / s + 0.5 * (1 - 1 / s)`` (pixel centres
      aligned, like ``align_corners=False``); output size ``ceil(s * in)``;
    - weights normalised to sum to 1; taps that fall outside the image are clamped to the edge pixel
      (replicate: the ``imresize.m`` of that era. Later MATLAB and BasicSR mirror instead, available
      here as ``border="mirror"``; it changes only the outer 2 LR pixels at x4);
    - separable: the dimension with the smaller scale is resized first (rows on a tie), and for uint8
      input the intermediate image is rounded half away from zero and saturated to uint8 after
      **each** 1-D pass, exactly like MATLAB's ``imresizemex``.

    ``matlab_lr(hr, scale)`` is the one spelling of an evaluation LR image: ``imresize_matlab`` by 1/scale of
    an HR image already cut to a multiple of the scale (``modcrop``).

``downscale_torch`` and ``downscale_patches``  (training patches, section 3.2)
    ``F.interpolate(mode="bicubic", antialias=True)``: the same a = -0.5 kernel stretched by the scale,
    on float tensors, batched, on any device, and far faster per patch than a numpy resize. :func:`downscale_patches`
    (training's LR patches) is the same map for square patches, written as two small matrix products read off
    ``F.interpolate`` (equal to within float rounding).
    On float images it equals ``imresize_matlab`` exactly inside the image. At the border torch
    renormalises the truncated kernel instead of replicating the edge pixel, so the two differ in a
    **border ring of** :data:`BORDER_RING` ``= 2`` LR pixels at x4 (the kernel's half-width, 2 / s input
    pixels, times s). Against the uint8 MATLAB result the interior agrees within one level, except
    where MATLAB's first pass overshoots [0, 255] beside saturated pixels and is clipped before the
    second pass (about 0.1 % of pixels on photographs, up to 3 levels).

Deviation to know about: the paper's section 2 mentions a Gaussian filter before downsampling; its
section 3.2 and the SelfExSR images it evaluated on use plain bicubic, which is what we do. An aliased
downscale (``downscale_torch(..., antialias=False)``, or strided subsampling) is *not* what the paper did: it
aliases, and the bicubic baseline on such LR images loses about a dB of PSNR.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

#: Keys' cubic convolution parameter used by MATLAB's imresize and by torch's antialiased path.
KEYS_A_MATLAB = -0.5
#: Width (in LR pixels) of the border ring where ``downscale_torch`` and ``imresize_matlab`` differ at x4.
BORDER_RING = 2
#: Support of the cubic kernel, in input pixels, before stretching.
_KERNEL_WIDTH = 4.0


def cubic_kernel(x: np.ndarray, a: float = KEYS_A_MATLAB) -> np.ndarray:
    """Keys' cubic convolution kernel (Keys 1981), support [-2, 2]; ``a = -0.5`` as in MATLAB."""
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    inner = (a + 2.0) * ax3 - (a + 3.0) * ax2 + 1.0  # |x| <= 1
    outer = a * ax3 - 5.0 * a * ax2 + 8.0 * a * ax - 4.0 * a  # 1 < |x| <= 2
    return np.where(ax <= 1.0, inner, np.where(ax <= 2.0, outer, 0.0))


def _contributions(
    in_len: int, out_len: int, scale: float, antialias: bool = True, border: str = "replicate"
) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-pixel input indices and weights of one 1-D MATLAB-style bicubic resize.

    Returns ``(indices, weights)``, both ``(out_len, taps)``; indices are 0-based and already
    clamped (or mirrored) into ``[0, in_len)``; each weight row sums to 1.
    """
    shrink = scale < 1.0 and antialias
    width = _KERNEL_WIDTH / scale if shrink else _KERNEL_WIDTH
    x = np.arange(1, out_len + 1, dtype=np.float64)  # 1-based output coordinates, as in MATLAB
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)  # (out,) matching input coordinate
    left = np.floor(u - width / 2.0)  # (out,)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]  # (out, taps), 1-based
    dist = u[:, None] - idx  # (out, taps)
    if shrink:
        weights = scale * cubic_kernel(scale * dist)  # stretched kernel: antialiasing
    else:
        weights = cubic_kernel(dist)
    weights = weights / weights.sum(axis=1, keepdims=True)
    idx0 = idx.astype(np.int64) - 1  # (out, taps), 0-based
    if border == "replicate":
        idx0 = np.clip(idx0, 0, in_len - 1)
    elif border == "mirror":
        period = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])  # (2*in,)
        idx0 = period[np.mod(idx0, 2 * in_len)]
    else:
        raise ValueError(f"border must be 'replicate' or 'mirror', got {border!r}")
    return idx0, weights


def _round_uint8(x: np.ndarray) -> np.ndarray:
    """MATLAB's double -> uint8 conversion: round half away from zero, then saturate."""
    return np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5), 0, 255).astype(np.uint8)


def _resize_axis(img: np.ndarray, axis: int, idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Apply one 1-D pass along ``axis``: out[o] = sum_k w[o, k] * img[idx[o, k]]."""
    src = np.moveaxis(img, axis, 0).astype(np.float64, copy=False)  # (in, ...)
    bshape = (weights.shape[0],) + (1,) * (src.ndim - 1)
    acc = np.zeros((weights.shape[0],) + src.shape[1:], dtype=np.float64)  # (out, ...)
    # Accumulate tap by tap, in order, like MATLAB's imresizemex does.
    for k in range(weights.shape[1]):
        acc += weights[:, k].reshape(bshape) * src[idx[:, k]]
    return np.moveaxis(acc, 0, axis)


def imresize_matlab(
    img: np.ndarray,
    scale: float | None = None,
    output_shape: tuple[int, int] | None = None,
    *,
    antialias: bool = True,
    border: str = "replicate",
) -> np.ndarray:
    """MATLAB-era ``imresize(img, scale, 'bicubic')``, bit-exact for uint8 images (section 3.1).

    Args:
        img: ``(H, W)`` or ``(H, W, C)`` array, uint8 (rounded and saturated after each pass, as MATLAB
            does) or float (no rounding, no clipping).
        scale: resize factor, e.g. ``0.25`` for the paper's x4 downsampling; output size is
            ``ceil(scale * H) x ceil(scale * W)``.
        output_shape: ``(H_out, W_out)`` instead of ``scale``; each dimension then has its own scale.
        antialias: stretch the kernel when shrinking (MATLAB's default, and the paper's).
        border: ``"replicate"`` (the paper's era, default) or ``"mirror"`` (later MATLAB, BasicSR).

    Returns:
        The resized image, same dtype and number of dimensions as ``img``.
    """
    img = np.asarray(img)
    if img.ndim not in (2, 3):
        raise ValueError(f"imresize_matlab expects an (H, W) or (H, W, C) array, got shape {img.shape}")
    if (scale is None) == (output_shape is None):
        raise ValueError("give exactly one of scale or output_shape")
    in_hw = img.shape[:2]
    if min(in_hw) < 1:
        raise ValueError(f"cannot resize an empty image of shape {img.shape}")
    if scale is not None:
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")
        scales = (float(scale), float(scale))
        out_hw = tuple(int(math.ceil(scale * n)) for n in in_hw)
    else:
        out_hw = tuple(int(n) for n in output_shape)  # type: ignore[union-attr]
        if len(out_hw) != 2 or min(out_hw) < 1:
            raise ValueError(f"output_shape must be two positive sizes, got {output_shape}")
        scales = (out_hw[0] / in_hw[0], out_hw[1] / in_hw[1])
    is_uint8 = img.dtype == np.uint8
    if not (is_uint8 or np.issubdtype(img.dtype, np.floating)):
        raise ValueError(f"imresize_matlab expects uint8 or float input, got {img.dtype}")
    # MATLAB sorts the scales (stable): the dimension that shrinks most goes first, rows on a tie.
    order = sorted(range(2), key=lambda d: scales[d])
    out = img
    for axis in order:
        if out.shape[axis] == out_hw[axis] and scales[axis] == 1.0:
            continue
        idx, w = _contributions(in_hw[axis], out_hw[axis], scales[axis], antialias, border)
        out = _resize_axis(out, axis, idx, w)
        if is_uint8:
            out = _round_uint8(out)
    if out is img:
        return img.copy()
    return out if is_uint8 else out.astype(img.dtype, copy=False)


def modcrop(img, scale: int):
    """Crop the top-left region whose height and width are multiples of ``scale``.

    Works on numpy ``(H, W)`` / ``(H, W, C)`` arrays and on torch ``(..., C, H, W)`` tensors; this is how
    evaluation HR images are prepared before making their LR (section 3.1, SelfExSR's ``modcrop``).
    """
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    if isinstance(img, torch.Tensor):
        if img.ndim < 2:
            raise ValueError(f"modcrop expects a (..., H, W) tensor, got shape {tuple(img.shape)}")
        h, w = img.shape[-2:]
        return img[..., : h - h % scale, : w - w % scale]
    arr = np.asarray(img)
    if arr.ndim not in (2, 3):
        raise ValueError(f"modcrop expects an (H, W) or (H, W, C) array, got shape {arr.shape}")
    h, w = arr.shape[:2]
    return arr[: h - h % scale, : w - w % scale]


def matlab_lr(hr: np.ndarray, scale: int) -> np.ndarray:
    """The evaluation LR of a (mod-cropped) uint8 HR image: MATLAB-era ``imresize(hr, 1/scale, 'bicubic')``."""
    h, w = hr.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f"HR size {w}x{h} is not a multiple of the scale {scale}; modcrop it first")
    lr = imresize_matlab(hr, 1.0 / scale)
    if lr.shape[:2] != (h // scale, w // scale):  # 1/scale not exact in binary (e.g. 3): give the size
        lr = imresize_matlab(hr, output_shape=(h // scale, w // scale))
    return lr


def _as_batch(x: torch.Tensor, name: str) -> tuple[torch.Tensor, bool]:
    if not isinstance(x, torch.Tensor) or x.ndim not in (3, 4):
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(f"{name} expects a (N, C, H, W) or (C, H, W) float tensor, got {shape}")
    if not x.is_floating_point():
        raise ValueError(f"{name} expects a float tensor in [0, 1], got dtype {x.dtype}")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def downscale_torch(hr: torch.Tensor, scale: int, *, antialias: bool = True) -> torch.Tensor:
    """Fast training degradation: antialiased bicubic (a = -0.5) downscale by ``scale`` (section 3.2).

    Args:
        hr: ``(N, C, H, W)`` or ``(C, H, W)`` float tensor in [0, 1]; H and W should be multiples of
            ``scale`` (use :func:`modcrop`), otherwise the output is ``floor(H / scale)``.
        scale: integer downscaling factor (4 in the paper).
        antialias: ``False`` gives the aliased downscale (a common mistake, not the paper's degradation),
            for comparison only.

    Returns:
        ``(N, C, H // scale, W // scale)`` (or unbatched) float tensor, clamped to [0, 1]. Equal to
        :func:`imresize_matlab` except in a :data:`BORDER_RING`-pixel border ring (at x4).
    """
    x, squeeze = _as_batch(hr, "downscale_torch")
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    h, w = x.shape[-2:]
    size = (h // scale, w // scale)
    lr = F.interpolate(x, size=size, mode="bicubic", antialias=antialias, align_corners=False)  # (N, C, h, w)
    lr = lr.clamp_(0.0, 1.0)
    return lr.squeeze(0) if squeeze else lr  # (C, h, w) when unbatched


@functools.lru_cache(maxsize=16)
def _downscale_matrix(size: int, scale: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``(size, size // scale)`` matrix ``M`` with ``x @ M`` = torch's antialiased bicubic
    downscale of the rows of ``x`` (``F.interpolate(..., mode="bicubic", antialias=True)``).

    It is read off torch itself: resizing the identity matrix gives each input pixel's weights in each
    output pixel (the height is kept, which is exactly the identity for this kernel).
    """
    eye = torch.eye(size, dtype=dtype)[None, None]  # (1, 1, size, size)
    m = F.interpolate(eye, size=(size, size // scale), mode="bicubic", antialias=True,
                      align_corners=False)  # (1, 1, size, size/scale)
    return m[0, 0].contiguous()  # (size, size/scale)


def downscale_patches(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Antialiased bicubic downscale of a batch of square patches, as two small matrix products.

    Equal to :func:`downscale_torch` (``F.interpolate(..., antialias=True)``) to within float rounding, and
    faster on a CPU: the resize is linear and separable, so for a fixed size it is ``M^T @ x @ M`` with ``M``
    read off torch (:func:`_downscale_matrix`). Each patch's result does not depend on the rest of the batch.

    Args:
        hr: ``(N, C, S, S)`` float tensor in [0, 1], ``S`` a multiple of ``scale``.
        scale: integer factor (4 in the paper).

    Returns:
        ``(N, C, S // scale, S // scale)`` float tensor clamped to [0, 1].
    """
    if hr.ndim != 4 or hr.shape[-1] != hr.shape[-2] or not hr.is_floating_point():
        raise ValueError(f"downscale_patches expects (N, C, S, S) float patches, got {hr.dtype} {tuple(hr.shape)}")
    size = hr.shape[-1]
    if size % scale:
        raise ValueError(f"patch size {size} is not a multiple of the scale {scale}")
    dtype = hr.dtype if hr.dtype == torch.float64 else torch.float32
    m = _downscale_matrix(size, scale, dtype).to(hr.device, hr.dtype)  # (S, s)
    rows = torch.matmul(hr, m)  # (N, C, S, s): each row shrunk
    lr = torch.matmul(rows.transpose(-1, -2), m).transpose(-1, -2)  # (N, C, s, s): then each column
    return lr.contiguous().clamp_(0.0, 1.0)


def upscale_bicubic_torch(lr: torch.Tensor, scale: int, *, antialias: bool = False) -> torch.Tensor:
    """torch's bicubic upscale by ``scale``, clamped to [0, 1]: the "torch bicubic" baseline.

    With ``antialias=False`` (default) torch uses Keys a = -0.75, *not* MATLAB's -0.5, so this baseline is not
    the paper's bicubic row. With ``antialias=True`` torch uses a = -0.5 and matches :func:`imresize_matlab`
    away from the borders.
    """
    x, squeeze = _as_batch(lr, "upscale_bicubic_torch")
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    h, w = x.shape[-2:]
    sr = F.interpolate(
        x, size=(h * scale, w * scale), mode="bicubic", antialias=antialias, align_corners=False
    )  # (N, C, H, W)
    sr = sr.clamp_(0.0, 1.0)
    return sr.squeeze(0) if squeeze else sr  # (C, H, W) when unbatched
