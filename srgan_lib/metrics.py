"""PSNR and SSIM on the luma channel, in two named flavours (section 3.1, Table 2); and a grid-artifact score.

Super-resolution papers disagree by up to a dB on the *same* images because they measure differently
(RGB or Y, which Y, border crop, which SSIM). Every number here therefore names its protocol:

``flavour="standard"``  (VDSR / EDSR era; SelfExSR's published per-image tables)
    Y = round(16 + (65.481 R + 128.553 G + 24.966 B) / 255) with R, G, B in [0, 255]: BT.601 studio
    range as MATLAB's ``rgb2ycbcr`` computes it on uint8 images (including the rounding to uint8).
    Single-channel (grayscale) images are used as Y directly. ``crop_border`` pixels are removed from
    every side. PSNR = 10 log10(255^2 / MSE) on doubles. SSIM = Wang et al.'s ``ssim_index.m``: 11x11
    Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255, "valid" region only, plain mean.
    Batched torch code in float64 on the input's device (a separable filter as shifted sums; Apple's
    MPS has no float64, so there it runs on the CPU).

``flavour="paper"``  (what the SRGAN paper's Table 2 used: the daala tools at commit 8d03668)
    1. crop ``crop_border`` pixels from every side of the RGB images (gray is expanded to RGB);
    2. convert to Y'CbCr like daala's ``png2y4m`` at its defaults: BT.709 (Kr 0.2126, Kb 0.0722),
       studio range, 4:2:0 chroma, triangular-PDF dither from a fixed-seed KISS99 generator; chroma is
       quantised first from 2x2 block sums, then each Y' is the floor or floor + 1 that best rebuilds
       the (dithered, 16-bit) RGB pixel given the quantised chroma;
    3. PSNR as ``dump_psnr -y``: 10 log10(255^2 N / SSE) over the luma plane;
    4. SSIM as ``dump_ssim -y -r``: separable integer Gaussian window (256 per axis) whose sigma is
       1.5 * H / 256 for a plane of height H, truncated at the image borders (no padding), SSIM at every
       pixel, mean weighted by each pixel's in-image window mass.
    Numpy, on CPU (inputs are converted to uint8). Reproduces all twelve bicubic / nearest-neighbour
    x4 numbers of the paper's Table 2 (see ``benchmarks/table2.py``).

    Credit: this is our own Python re-implementation of the algorithms in xiph/daala's
    ``tools/png2y4m.c``, ``tools/kiss99.c``, ``tools/dump_psnr.c`` and ``tools/dump_ssim.c`` (Daala
    project contributors and the Xiph.Org Foundation, https://github.com/xiph/daala; the project is
    BSD-licensed, though png2y4m.c and kiss99.c carry GPL-2.0-or-later headers of their own), written
    from reading those sources. No C code is copied; the integer constants of the BT.709 conversion,
    the dither ranges and the KISS99 seeds are theirs, as they must be to give the same numbers.

The paper's SSIM runs about 0.01 to 0.05 higher than the standard flavour on the same images (larger,
image-size dependent window; chroma-aware luma): never compare numbers across flavours.

Inputs: float tensors in [0, 1] shaped ``(N, C, H, W)`` or ``(C, H, W)`` with C = 3 (RGB) or 1 (gray),
uint8 tensors of the same shapes, or numpy arrays ``(H, W, 3)`` / ``(H, W)`` (uint8, or float in [0, 1]).
Float values are clamped to [0, 1] and quantised to 8 bits (round half up), as saving the image to a
PNG would: both protocols were defined on 8-bit image files. Batched input gives per-image values
``(N,)``; a single image gives a 0-d tensor.

:func:`grid_artifact` (not in the paper) scores the periodic error at the pixel-shuffle period, a GAN
artifact that PSNR and SSIM barely see; it is a plain RGB measure, the same in both flavours.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from .files import GRAY_MODES, read_with_mode

#: The two measuring protocols (see the module docstring).
FLAVOURS = ("standard", "paper")

#: Section 3.1: "removal of a 4-pixel wide strip from each border" (= the scale factor, 4).
CROP_BORDER = 4

# --- "standard" flavour constants (MATLAB rgb2ycbcr, Wang et al. 2004 ssim_index.m) -----------------
_BT601_Y = (65.481, 128.553, 24.966)  # Y row of MATLAB's rgb2ycbcr matrix, for RGB in [0, 1]
_SSIM_WIN = 11  # Gaussian window size
_SSIM_SIGMA = 1.5
_SSIM_K1, _SSIM_K2 = 0.01, 0.03
_PEAK = 255.0


# =====================================================================================================
# Input handling
# =====================================================================================================
def _to_uint8_batch(x, name: str) -> tuple[torch.Tensor, bool]:
    """Any accepted input -> ((N, C, H, W) uint8 tensor, was_single). Floats are quantised to 8 bits."""
    if isinstance(x, np.ndarray):
        if x.ndim == 2:
            t = torch.from_numpy(np.array(x))[None, None]  # (1, 1, H, W)
        elif x.ndim == 3 and x.shape[2] in (1, 3):
            t = torch.from_numpy(np.array(x)).permute(2, 0, 1)[None]  # (1, C, H, W)
        else:
            raise ValueError(f"{name}: expected a numpy (H, W, 3) or (H, W) image, got shape {x.shape}")
        single = True
    elif isinstance(x, torch.Tensor):
        if x.ndim == 3:
            t, single = x[None], True  # (1, C, H, W)
        elif x.ndim == 4:
            t, single = x, False
        else:
            raise ValueError(f"{name}: expected a (N, C, H, W) or (C, H, W) tensor, got shape {tuple(x.shape)}")
        if t.shape[1] not in (1, 3):
            raise ValueError(f"{name}: expected 3 (RGB) or 1 (gray) channels, got shape {tuple(x.shape)}")
    else:
        raise ValueError(f"{name}: expected a torch tensor or numpy array, got {type(x).__name__}")
    if t.dtype == torch.uint8:
        return t, single
    if not t.is_floating_point():
        raise ValueError(f"{name}: expected uint8 or float values, got dtype {t.dtype}")
    q = (t.detach().to(torch.float64).clamp(0.0, 1.0) * 255.0 + 0.5).floor()  # 8-bit, as in a PNG
    return q.to(torch.uint8), single


def _prepare(sr, hr, crop_border: int, flavour: str) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Validate, convert to (N, C, H, W) uint8 and remove the border strip from both images."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}; choose one of {FLAVOURS}")
    if not isinstance(crop_border, (int, np.integer)) or crop_border < 0:
        raise ValueError(f"crop_border must be a non-negative integer, got {crop_border!r}")
    a, single_a = _to_uint8_batch(sr, "sr")
    b, _ = _to_uint8_batch(hr, "hr")
    if a.shape != b.shape:
        raise ValueError(f"sr and hr shapes differ: {tuple(a.shape)} vs {tuple(b.shape)} (as (N, C, H, W))")
    h, w = a.shape[-2:]
    if min(h, w) - 2 * crop_border < 1:
        raise ValueError(f"image of {h}x{w} is too small for crop_border={crop_border}")
    if crop_border:
        a = a[..., crop_border:-crop_border, crop_border:-crop_border]  # (N, C, H-2c, W-2c)
        b = b[..., crop_border:-crop_border, crop_border:-crop_border]  # (N, C, H-2c, W-2c)
    return a, b, single_a


def _finish(v: torch.Tensor, single: bool) -> torch.Tensor:
    return v[0] if single else v


# =====================================================================================================
# "standard" flavour: MATLAB rgb2ycbcr + Wang's ssim_index, batched torch
# =====================================================================================================
def rgb_to_y_bt601(q: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) uint8 -> (N, H, W) float64 Y as MATLAB ``rgb2ycbcr`` on uint8 (rounded to uint8).

    Gray (N, 1, H, W) input is returned as is, as the SelfExSR/VDSR MATLAB scripts do.
    """
    q = q.to(torch.float64)
    if q.shape[1] == 1:
        return q[:, 0]  # (N, H, W)
    # MATLAB: T = (1/255) * origT, then imlincomb(T1, R, T2, G, T3, B, 16): coefficients scaled first
    # (a multiplication by 1/255, not a division: it decides a few rounding ties), summed in this
    # order, rounded half away from zero. This reproduces SelfExSR's published values exactly.
    c = [(1.0 / 255.0) * v for v in _BT601_Y]
    y = c[0] * q[:, 0] + c[1] * q[:, 1] + c[2] * q[:, 2] + 16.0  # (N, H, W)
    return (y + 0.5).floor().clamp(0.0, 255.0)  # round half away from zero (y > 0), saturate


def _gaussian_1d() -> list[float]:
    """Normalised 11-tap Gaussian, sigma 1.5: ``fspecial('gaussian', 11, 1.5)`` is its outer product."""
    g = [math.exp(-((i - (_SSIM_WIN - 1) / 2) ** 2) / (2 * _SSIM_SIGMA**2)) for i in range(_SSIM_WIN)]
    return [v / sum(g) for v in g]


def _valid_filter(x: torch.Tensor, g: list[float], dim: int) -> torch.Tensor:
    """1-D correlation along `dim` keeping only full windows ("valid"), as shifted in-place sums.

    On CPU this is several times faster than ``conv2d`` in float64, and it runs unchanged on a GPU.
    """
    n = x.shape[dim] - len(g) + 1
    out = x.narrow(dim, 0, n) * g[0]
    for i in range(1, len(g)):
        out.add_(x.narrow(dim, i, n), alpha=g[i])
    return out


def _psnr_standard(ya: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    mse = (ya - yb).pow(2).mean(dim=(-2, -1))  # (N,)
    return 10.0 * torch.log10(_PEAK**2 / mse)  # inf where mse == 0


def _ssim_standard(ya: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    if min(ya.shape[-2:]) < _SSIM_WIN:
        raise ValueError(
            f"SSIM needs at least {_SSIM_WIN}x{_SSIM_WIN} pixels after cropping, got {tuple(ya.shape[-2:])}"
        )
    g = _gaussian_1d()
    maps = torch.stack([ya, yb, ya * ya, yb * yb, ya * yb], dim=1)  # (N, 5, H, W)
    f = _valid_filter(_valid_filter(maps, g, -1), g, -2)  # (N, 5, H-10, W-10): filter2(..., 'valid')
    mu_a, mu_b, e_aa, e_bb, e_ab = f.unbind(1)  # each (N, H-10, W-10)
    c1, c2 = (_SSIM_K1 * _PEAK) ** 2, (_SSIM_K2 * _PEAK) ** 2
    var_a, var_b, cov = e_aa - mu_a**2, e_bb - mu_b**2, e_ab - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return ssim_map.mean(dim=(-2, -1))  # (N,)


# =====================================================================================================
# "paper" flavour: a re-implementation of xiph/daala's png2y4m + dump_psnr + dump_ssim, credited to
# the Daala project contributors / Xiph.Org Foundation (https://github.com/xiph/daala; see docstring)
# =====================================================================================================
# KISS99 (Marsaglia 1999) as in daala tools/kiss99.c: two multiply-with-carry generators, a 3-shift
# register and a congruential generator, with the fixed seed that png2y4m uses (no seed data).
_KISS_SEED = {"z": 362436069, "w": 521288629, "jsr": 123456789, "jcong": 380116160}
_MASK32 = np.uint64(0xFFFFFFFF)

# png2y4m's triangular dither ranges, per component (the largest divisors of the BT.709 integer
# coefficients that fit in 31 bits), drawn in this order for each pixel of each 2x2 block.
_DITHER_RANGES = (1223320000, 1479548743, 1255654969)  # Y', Cb, Cr


def _affine_orbit(a: int, c: int, mod: int, s0: int, n: int) -> np.ndarray:
    """States s_1..s_n of s <- (a s + c) mod `mod`, by doubling (all values < 2^32)."""
    out = np.array([(a * s0 + c) % mod], dtype=np.uint64)
    al, cl = a % mod, c % mod  # map of len(out) steps: s -> al s + cl
    m = np.uint64(mod)
    while out.size < n:
        nxt = np.uint64(al) * out + np.uint64(cl)  # products < 2^64
        nxt = nxt & _MASK32 if mod == 1 << 32 else nxt % m
        out = np.concatenate([out, nxt])
        al, cl = (al * al) % mod, (al * cl + cl) % mod
    return out[:n]


def _gf2_apply(cols: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Apply the GF(2)-linear map with column images `cols` (32,) to uint64 32-bit vectors `v`.

    Byte-wise lookup: the image of each of the 256 values of each byte is tabulated first.
    """
    out = np.zeros_like(v)
    for byte in range(4):
        table = np.zeros(256, dtype=np.uint64)
        for j in range(8):
            table[1 << j : 2 << j] = table[: 1 << j] ^ cols[8 * byte + j]
        out ^= table[(v >> np.uint64(8 * byte)) & np.uint64(255)]
    return out


def _shr3_step(v: np.ndarray) -> np.ndarray:
    v = v ^ ((v << np.uint64(17)) & _MASK32)
    v = v ^ (v >> np.uint64(13))
    return v ^ ((v << np.uint64(5)) & _MASK32)


def _shr3_orbit(s0: int, n: int) -> np.ndarray:
    """States 1..n of the 3-shift register (linear over GF(2): extended by doubling)."""
    cols = _shr3_step(np.uint64(1) << np.arange(32, dtype=np.uint64))  # one step, per basis bit
    out = _shr3_step(np.array([s0], dtype=np.uint64))
    while out.size < n:
        out = np.concatenate([out, _gf2_apply(cols, out)])
        cols = _gf2_apply(cols, cols)  # map of 2x as many steps
    return out[:n]


def kiss99_stream(n: int) -> np.ndarray:
    """The first ``n`` outputs of daala's ``kiss99_rand`` after ``kiss99_srand(NULL, 0)`` (uint64 < 2^32).

    Vectorised: each component generator is advanced in closed form. The multiply-with-carry state
    S = c * 2^16 + x obeys S' = a S mod (a 2^16 - 1), so it is an affine orbit like the congruential part.
    """
    z = _affine_orbit(36969, 0, 36969 * 65536 - 1, _KISS_SEED["z"], n)
    w = _affine_orbit(18000, 0, 18000 * 65536 - 1, _KISS_SEED["w"], n)
    cong = _affine_orbit(69069, 1234567, 1 << 32, _KISS_SEED["jcong"], n)
    shr3 = _shr3_orbit(_KISS_SEED["jsr"], n)
    mwc = ((z << np.uint64(16)) + w) & _MASK32
    return ((mwc ^ cong) + shr3) & _MASK32


_dither_cache: dict[str, np.ndarray] = {}


def _triangle_dither(n_triples: int) -> np.ndarray:
    """(n_triples, 3) int64: png2y4m's (Y', Cb, Cr) triangular dither values, in drawing order.

    Each value is ``(r1 % (R+1)) - (r2 % (R+1))`` with r1, r2 the next KISS99 outputs below
    ``floor(0xFFFFFFFF / (R+1)) * (R+1)`` (rejection sampling). The rejections make the stream
    position of each call depend on all earlier calls; we find them all at once by pointer doubling.
    """
    cached = _dither_cache.get("tri")
    if cached is not None and cached.shape[0] >= n_triples:
        return cached[:n_triples]
    want = max(1 << 16, 1 << max(0, n_triples - 1).bit_length())
    n = int(want * 8) + 4096  # about 7.5 draws per triple on average
    while True:
        r = kiss99_stream(n)
        nxt, rng = [], []
        for big in _DITHER_RANGES:
            m = (0xFFFFFFFF // (big + 1)) * (big + 1)
            pos = np.where(r < m, np.arange(n), n)  # accepted draw positions, n = none
            nx = np.minimum.accumulate(pos[::-1])[::-1]  # (n,) next accepted position >= p
            nxt.append(np.concatenate([nx, [n, n]]))  # (n+2,): sentinel n = exhausted
            rng.append(big + 1)

        def call_end(t: int, p: np.ndarray) -> np.ndarray:  # end of one triangle_rand call from p
            return np.minimum(nxt[t][np.minimum(nxt[t][p] + 1, n)] + 1, n)

        starts_all = np.arange(n + 1)
        step = call_end(2, call_end(1, call_end(0, starts_all)))  # (n+1,) one (Y', Cb, Cr) triple
        starts = np.array([0])
        while starts.size < want:  # starts of triples 0..2^k-1 by pointer doubling
            starts = np.concatenate([starts, step[starts]])
            step = step[step]
        starts = starts[:want]
        if starts[-1] >= n:
            n *= 2
            continue
        vals = np.empty((want, 3), dtype=np.int64)
        p = starts
        for t in range(3):
            i1 = nxt[t][p]
            i2 = nxt[t][np.minimum(i1 + 1, n)]
            if (i2 >= n).any():
                break
            vals[:, t] = (r[i1] % rng[t]).astype(np.int64) - (r[i2] % rng[t]).astype(np.int64)
            p = i2 + 1
        else:
            _dither_cache["tri"] = vals
            return vals[:n_triples]
        n *= 2


def _div_round(x: np.ndarray, d: int) -> np.ndarray:
    """C's OD_DIV_ROUND: x / d rounded half away from zero (d > 0), on int64."""
    return ((np.abs(x) + (d >> 1)) // d) * np.sign(x)  # sign(0) = 0 is right: 0 rounds to 0


def _wrap_int32(x: np.ndarray) -> np.ndarray:
    """Emulate a 32-bit signed int result (png2y4m's squared-error sums are computed in int32)."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _calc_y(r: np.ndarray, g: np.ndarray, b: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> np.ndarray:
    """png2y4m's luma choice: floor or floor + 1, whichever rebuilds (r, g, b) best given (cb, cr)."""
    cb = cb - 128
    cr = cr - 128
    chroma = (
        4490222169144 * cr,
        -534117096223 * cb - 1334761232047 * cr,
        5290866304968 * cb,
    )
    res = [(v * 9745792000 - c + 4096) >> 13 for v, c in zip((r, g, b), chroma)]
    yn = 1063 * res[0] + 3576 * res[1] + 361 * res[2]
    y0 = np.clip(yn // 1780026171875, -16, 238)  # floor; 238 so that y0 + 1 stays in range

    def err(y):
        e = 0
        for v, c in zip((r, g, b), chroma):
            rec = np.clip(_div_round(2916394880000 * y + c, 9745792000), 0, 65535)
            e = e + (v - rec) * (v - rec)
        return _wrap_int32(e)

    e0, e1 = err(y0), err(y0 + 1)
    y0 = y0 + (e1 < e0) + (e1 == e0) * (y0 & 1)  # y0 + 1 when better; on a tie, round to even
    return (y0 + 16).astype(np.uint8)


def daala_luma(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) or (H, W) uint8 RGB -> (H, W) uint8 Y' exactly as daala's ``png2y4m`` (4:2:0, dither).

    BT.709, studio range; 8-bit samples are widened to 16 bits by repeating the byte (v * 257); each
    pixel gets a triangular dither aligned with the Y'CbCr axes; Cb, Cr are computed per 2x2 block from
    the dithered pixel sums; Y' is then chosen per pixel given the quantised chroma. The dither comes
    from a fixed-seed generator, so the result depends only on the image and its size.
    """
    if img.dtype != np.uint8:
        raise ValueError(f"daala_luma expects uint8 pixels, got {img.dtype}")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)  # png_set_gray_to_rgb
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"daala_luma expects an (H, W, 3) or (H, W) image, got shape {img.shape}")
    h, w = img.shape[:2]
    hb, wb = (h + 1) // 2, (w + 1) // 2
    rgb = img.astype(np.int64) * 257  # (H, W, 3) 16-bit
    # Dither: triple 4 b + k belongs to pixel k (0 TL, 1 TR, 2 BL, 3 BR) of block b (raster order).
    tri = _triangle_dither(4 * hb * wb).reshape(hb, wb, 2, 2, 3)  # (hb, wb, dy, dx, Y'/Cb/Cr)
    yd = tri[..., 0].transpose(0, 2, 1, 3).reshape(2 * hb, 2 * wb)[:h, :w]  # (H, W)
    cbd = np.repeat(np.repeat(tri[:, :, 0, 0, 1], 2, 0), 2, 1)[:h, :w]  # 4:2:0 uses pixel 0's chroma dither
    crd = np.repeat(np.repeat(tri[:, :, 0, 0, 2], 2, 0), 2, 1)[:h, :w]  # (H, W)
    r = rgb[..., 0] + _div_round(2 * yd + 3 * crd, 8176000)  # (H, W)
    g = rgb[..., 1] + _div_round(2384 * yd + 361 * cbd + 1063 * crd, 9745792000)
    b = rgb[..., 2] + _div_round(2 * yd + 3 * cbd, 8176000)
    # Odd sizes: the missing pixels of an edge block copy their neighbour's *dithered* value.
    pad = ((0, 2 * hb - h), (0, 2 * wb - w))
    sums = []
    for c in (r, g, b):
        cp = np.pad(c, pad, mode="edge") if pad != ((0, 0), (0, 0)) else c  # (2hb, 2wb)
        sums.append(cp[0::2, 0::2] + cp[0::2, 1::2] + cp[1::2, 0::2] + cp[1::2, 1::2])  # (hb, wb) block sums
    rs, gs, bs = sums
    cb = np.clip(_div_round(-29764 * rs - 100128 * gs + 129892 * bs, 304016865) + 128, 0, 255)
    cr = np.clip(_div_round(110236 * rs - 100128 * gs - 10108 * bs, 258011295) + 128, 0, 255)
    cb = np.repeat(np.repeat(cb, 2, 0), 2, 1)[:h, :w]  # (H, W)
    cr = np.repeat(np.repeat(cr, 2, 0), 2, 1)[:h, :w]
    return _calc_y(r, g, b, cb, cr)


def _daala_kernel(sigma: float, max_len: int) -> np.ndarray:
    """dump_ssim's integer Gaussian: taps round(256 g), centre = 256 - the others; half-length capped."""
    scale = 1 / (math.sqrt(2 * math.pi) * sigma)
    nhisigma2 = -0.5 / (sigma * sigma)
    s = math.sqrt(0.5 * math.pi) * sigma * (1.0 / 256)
    length = 0.0 if s >= 1 else math.floor(sigma * math.sqrt(-2 * math.log(s)))
    half = max_len - 1 if length >= max_len else int(length)
    side = [int(256 * scale * math.exp(nhisigma2 * ci * ci) + 0.5) for ci in range(half, 0, -1)]
    return np.array(side + [256 - 2 * sum(side)] + side[::-1], dtype=np.int64)


def _filter_truncated(x: torch.Tensor, k: np.ndarray, dim: int) -> torch.Tensor:
    """Correlate float64 planes with a symmetric integer kernel along `dim`, in-image taps only.

    Taps falling outside the image are dropped (dump_ssim's truncated window). float64 holds these
    integer sums exactly (all are below 2^53), so the result equals daala's int64 moments.
    """
    half = k.size // 2
    n = x.shape[dim]
    out = x * float(k[half])
    for d in range(1, min(half, n - 1) + 1):  # neighbours at distance d, both sides
        wd = float(k[half + d])
        out.narrow(dim, d, n - d).add_(x.narrow(dim, 0, n - d), alpha=wd)
        out.narrow(dim, 0, n - d).add_(x.narrow(dim, d, n - d), alpha=wd)
    return out


def _psnr_daala(ya: np.ndarray, yb: np.ndarray) -> float:
    d = ya.astype(np.int64) - yb.astype(np.int64)
    sse = int((d * d).sum())
    if sse == 0:
        return math.inf
    return 10 * (math.log10(255 * 255) + math.log10(d.size) - math.log10(sse))


def _ssim_daala(ya: np.ndarray, yb: np.ndarray) -> float:
    """``dump_ssim -y -r`` on one luma plane (integer moments, float SSIM, mass-weighted mean)."""
    h, w = ya.shape
    k = _daala_kernel(h * (1.5 / 256), min(w, h))  # sigma from the plane height, same for both axes
    a = torch.from_numpy(ya.astype(np.float64))
    b = torch.from_numpy(yb.astype(np.float64))
    moments = torch.stack([a, b, a * a, a * b, b * b])  # (5, H, W)
    m = _filter_truncated(_filter_truncated(moments, k, 2), k, 1)  # (5, H, W): daala's integer moments
    mux, muy, x2, xy, y2 = m.numpy()
    ones = torch.ones(1, dtype=torch.float64)
    mass_y = _filter_truncated(ones.expand(h).clone(), k, 0).numpy()  # (H,) in-image window mass
    mass_x = _filter_truncated(ones.expand(w).clone(), k, 0).numpy()  # (W,)
    mw = np.outer(mass_y, mass_x)  # (H, W): the separable window's in-image mass
    c1 = 255 * 255 * (0.01 * 0.01) * mw * mw
    c2 = 255 * 255 * (0.03 * 0.03) * mw * mw
    mx2, mxy, my2 = mux * mux, mux * muy, muy * muy
    num = mw * (2 * mxy + c1) * (c2 + 2 * (xy * mw - mxy))
    den = (mx2 + my2 + c1) * (x2 * mw - mx2 + y2 * mw - my2 + c2)
    return float((num / den).sum() / mw.sum())


def _paper_lumas(q: torch.Tensor) -> list[np.ndarray]:
    u8 = q.cpu().permute(0, 2, 3, 1).numpy()  # (N, H, W, C) uint8 view
    return [daala_luma(im if im.shape[2] == 3 else im[:, :, 0]) for im in u8]


# =====================================================================================================
# Public API
# =====================================================================================================
def _lumas(sr, hr, crop_border: int, flavour: str):
    a, b, single = _prepare(sr, hr, crop_border, flavour)
    if a.device.type == "mps":  # no float64 on Apple GPUs: measure on the CPU instead
        a, b = a.cpu(), b.cpu()
    if flavour == "standard":
        return rgb_to_y_bt601(a), rgb_to_y_bt601(b), single, a.device
    return _paper_lumas(a), _paper_lumas(b), single, a.device


def _psnr_from(ya, yb, flavour: str, device) -> torch.Tensor:
    if flavour == "standard":
        return _psnr_standard(ya, yb)
    return torch.tensor([_psnr_daala(p, q) for p, q in zip(ya, yb)], dtype=torch.float64, device=device)


def _ssim_from(ya, yb, flavour: str, device) -> torch.Tensor:
    if flavour == "standard":
        return _ssim_standard(ya, yb)
    return torch.tensor([_ssim_daala(p, q) for p, q in zip(ya, yb)], dtype=torch.float64, device=device)


def _check_inputs(sr, hr) -> None:
    """Public entry points: float images must be finite and in [0, 1] (a NaN would otherwise be clamped
    into a plausible-looking score; 0-255 or [-1, 1] floats would be silently saturated)."""
    from .images import check_unit_range

    for name, x in (("sr", sr), ("hr", hr)):
        if isinstance(x, (torch.Tensor, np.ndarray)):
            check_unit_range(x, name)


def psnr(sr, hr, *, crop_border: int = CROP_BORDER, flavour: str = "standard") -> torch.Tensor:
    """PSNR [dB] on the luma channel after removing ``crop_border`` pixels from every side.

    Args:
        sr, hr: images as described in the module docstring (same shape), e.g. ``(N, 3, H, W)`` floats
            in [0, 1].
        crop_border: border strip to ignore; the paper uses 4 (= the scale).
        flavour: ``"standard"`` (BT.601 Y, MATLAB) or ``"paper"`` (daala tools, as in Table 2).

    Returns:
        float64 tensor ``(N,)`` per image, or 0-d for a single image; ``inf`` for identical images.

    Raises:
        ValueError: wrong shapes or dtypes, float values that are not finite or outside [0, 1].
    """
    _check_inputs(sr, hr)
    ya, yb, single, dev = _lumas(sr, hr, crop_border, flavour)
    return _finish(_psnr_from(ya, yb, flavour, dev), single)


def ssim(sr, hr, *, crop_border: int = CROP_BORDER, flavour: str = "standard") -> torch.Tensor:
    """SSIM on the luma channel after removing ``crop_border`` pixels from every side.

    Same arguments, return shape and errors as :func:`psnr`; 1 for identical images.
    """
    _check_inputs(sr, hr)
    ya, yb, single, dev = _lumas(sr, hr, crop_border, flavour)
    return _finish(_ssim_from(ya, yb, flavour, dev), single)


def evaluate_pair(
    sr, hr, *, crop_border: int = CROP_BORDER, flavour: str = "standard"
) -> dict[str, torch.Tensor]:
    """Both metrics at once (the luma conversion is shared): ``{"psnr": ..., "ssim": ...}``.

    Values have the shapes :func:`psnr` returns: ``(N,)`` for a batch, 0-d for a single image.
    """
    _check_inputs(sr, hr)
    ya, yb, single, dev = _lumas(sr, hr, crop_border, flavour)
    return {
        "psnr": _finish(_psnr_from(ya, yb, flavour, dev), single),
        "ssim": _finish(_ssim_from(ya, yb, flavour, dev), single),
    }


def _read_image(path: Path) -> np.ndarray:
    rgb, _, mode = read_with_mode(path)  # (H, W, 3) uint8; alpha dropped, as png2y4m strips it
    return rgb[..., 0] if mode in GRAY_MODES else rgb  # a gray file stays (H, W)


def psnr_ssim_files(
    sr_path, hr_path, *, crop_border: int = CROP_BORDER, flavour: str = "standard"
) -> dict[str, float]:
    """PSNR and SSIM between two image files: ``{"psnr": float, "ssim": float}``.

    8-bit gray and RGB files are read as they are (gray stays gray, which the "standard" flavour uses
    as Y directly); if one file is gray and the other colour, the gray one is expanded to RGB.
    Raises ``FileNotFoundError``/``ValueError`` naming the file when it is missing or unreadable, and
    ``ValueError`` naming both when their sizes differ.
    """
    sr_path, hr_path = Path(sr_path), Path(hr_path)
    a, b = _read_image(sr_path), _read_image(hr_path)
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(
            f"image sizes differ: {sr_path} is {a.shape[1]}x{a.shape[0]}, {hr_path} is {b.shape[1]}x{b.shape[0]}"
        )
    if a.ndim != b.ndim:
        a, b = (np.repeat(x[:, :, None], 3, axis=2) if x.ndim == 2 else x for x in (a, b))
    out = evaluate_pair(a, b, crop_border=crop_border, flavour=flavour)
    return {k: float(v) for k, v in out.items()}


# =====================================================================================================
# Grid artifacts at the pixel-shuffle period
# =====================================================================================================
def grid_artifact(sr, hr, *, period: int = 4, crop_border: int = CROP_BORDER) -> torch.Tensor:
    """RMS amplitude, in 8-bit grey levels, of the part of the error ``SR - HR`` that repeats every
    ``period`` pixels: the checkerboard/grid that sub-pixel convolution (section 2.1, two x2 pixel-shuffle
    stages at x4) can print on an image. 0 means no such grid.

    Each of the ``period x period`` output positions of an upsampling block comes from its own channels,
    so a bias between them shows as a pattern of period 4 (at x4). In the 2D spectrum of the error that
    pattern lives only at the frequencies ``(a H / period, b W / period)``, ``a, b = 0 .. period-1``. The
    score is the energy at those ``period^2 - 1`` frequencies (not the mean, ``a = b = 0``), per pixel and
    colour channel, square-rooted:

        grid = sqrt( sum_{(a,b) != (0,0)} |FFT(SR - HR)[a H/p, b W/p]|^2 / (H W)^2 ),   mean over channels

    By Parseval this equals the RMS of the ``period x period`` tile that the error repeats on average
    (the mean of all ``p x p`` tiles, minus its own mean). Images are quantised to 8 bits as in
    :func:`psnr`; ``crop_border`` pixels are removed from every side, then the bottom/right edge is
    trimmed to a multiple of ``period``.

    How to read it: a clean result scores near its noise floor, about ``rms(SR - HR) * sqrt((p^2 - 1) / (H W))``
    (0.1 to 0.3 levels on a 256 x 256 crop for bicubic or SRResNet), because an error with no period
    spreads its energy over all ``H W`` frequencies and only ``p^2 - 1`` of them count. A score several
    times that floor is a grid: on the held-out photographs astronaut and coffee an earlier SRGAN-MSE (300 GAN steps
    with all of G trained) scored about 1 to 1.5 levels and showed a visible checkerboard, ``srresnet_x4`` about
    0.2, and the shipped ``srgan_mse_x4`` (its upsampling frozen) about 0.3. Patterns of another period
    (5, say) or plain noise of the same energy hardly count. The HR image is used only through the error,
    so a regular texture in the original (brick) does not count as long as SR reproduces it.

    Args:
        sr, hr: images as :func:`psnr` takes them (same shape), e.g. ``(H, W, 3)`` uint8 or
            ``(N, 3, H, W)`` floats in [0, 1].
        period: the upscaling factor of one pixel-shuffle stack (4 for the paper's x4 generator).
        crop_border: border strip to ignore (4, as the paper's PSNR; a multiple of ``period`` keeps the phase).

    Returns:
        float64 tensor ``(N,)`` per image, or 0-d for a single image.
    """
    if not isinstance(period, (int, np.integer)) or period < 2:
        raise ValueError(f"period must be an integer >= 2, got {period!r}")
    a, b, single = _prepare(sr, hr, crop_border, "standard")  # (N, C, H', W') uint8; the flavour plays no role
    h, w = (a.shape[-2] // period) * period, (a.shape[-1] // period) * period
    if h == 0 or w == 0:
        raise ValueError(f"image of {tuple(a.shape[-2:])} after crop_border={crop_border} is smaller than "
                         f"one period ({period})")
    err = a[..., :h, :w].double() - b[..., :h, :w].double()  # (N, C, h, w) in grey levels
    spectrum = torch.fft.fft2(err)  # (N, C, h, w)
    peaks = spectrum[..., :: h // period, :: w // period].abs() ** 2  # (N, C, p, p): the grid frequencies
    peaks[..., 0, 0] = 0  # the mean error (a colour or brightness shift) is not a grid
    energy = peaks.sum(dim=(-2, -1)) / float(h * w) ** 2  # (N, C): mean square of the periodic part
    return _finish(energy.mean(dim=1).sqrt(), single)
