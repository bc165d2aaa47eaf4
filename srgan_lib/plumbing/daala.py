"""Plumbing, not part of the lesson: the "paper" flavour of :mod:`srgan_lib.metrics`, a port of the daala tools.

The SRGAN paper's Table 2 (section 3.1) measured PSNR and SSIM with xiph/daala's tools at commit 8d03668;
``psnr(..., flavour="paper")`` and ``ssim(..., flavour="paper")`` measure the same way:

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
x4 numbers of the paper's Table 2.

Credit: this is our own Python re-implementation of the algorithms in xiph/daala's
``tools/png2y4m.c``, ``tools/kiss99.c``, ``tools/dump_psnr.c`` and ``tools/dump_ssim.c`` (Daala
project contributors and the Xiph.Org Foundation, https://github.com/xiph/daala; the project is
BSD-licensed, though png2y4m.c and kiss99.c carry GPL-2.0-or-later headers of their own), written
from reading those sources. No C code is copied; the integer constants of the BT.709 conversion,
the dither ranges and the KISS99 seeds are theirs, as they must be to give the same numbers.
"""

from __future__ import annotations

import math

import numpy as np
import torch

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


def psnr_daala(ya: np.ndarray, yb: np.ndarray) -> float:
    """``dump_psnr -y`` on one pair of luma planes: 10 log10(255^2 N / SSE); ``inf`` when identical."""
    d = ya.astype(np.int64) - yb.astype(np.int64)
    sse = int((d * d).sum())
    if sse == 0:
        return math.inf
    return 10 * (math.log10(255 * 255) + math.log10(d.size) - math.log10(sse))


def ssim_daala(ya: np.ndarray, yb: np.ndarray) -> float:
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


def paper_lumas(q: torch.Tensor) -> list[np.ndarray]:
    """(N, C, H, W) uint8 images (C = 3 or 1) -> their (H, W) uint8 Y' planes, by :func:`daala_luma`."""
    u8 = q.cpu().permute(0, 2, 3, 1).numpy()  # (N, H, W, C) uint8 view
    return [daala_luma(im if im.shape[2] == 3 else im[:, :, 0]) for im in u8]

