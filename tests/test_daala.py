"""Tests of srgan_lib.plumbing.daala, the port behind the "paper" metrics flavour, against daala's C tools.

Oracles: literal, slow, pixel-by-pixel re-readings of daala's C tools (png2y4m, kiss99, dump_ssim)
written here in plain Python integers. (The paper's twelve Table 2 numbers are checked in test_metrics.py.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srgan_lib.plumbing import daala

# ---------------------------------------------------------------------------------------------------
# "paper" flavour: the parts, against literal re-readings of daala's C code
# ---------------------------------------------------------------------------------------------------
class _Kiss99:
    """tools/kiss99.c, seeded like png2y4m: kiss99_srand(&kiss, NULL, 0)."""

    def __init__(self) -> None:
        self.z, self.w, self.jsr, self.jcong = 362436069, 521288629, 123456789, 380116160

    def rand(self) -> int:
        self.z = 36969 * (self.z & 0xFFFF) + (self.z >> 16)
        self.w = 18000 * (self.w & 0xFFFF) + (self.w >> 16)
        mwc = ((self.z << 16) + self.w) & 0xFFFFFFFF
        s = self.jsr ^ ((self.jsr << 17) & 0xFFFFFFFF)
        s ^= s >> 13
        s ^= (s << 5) & 0xFFFFFFFF
        self.jsr = s
        self.jcong = (69069 * self.jcong + 1234567) & 0xFFFFFFFF
        return ((mwc ^ self.jcong) + self.jsr) & 0xFFFFFFFF

    def triangle(self, rng: int) -> int:
        rng += 1
        m = 0xFFFFFFFF // rng * rng
        r1 = self.rand()
        while r1 >= m:
            r1 = self.rand()
        r2 = self.rand()
        while r2 >= m:
            r2 = self.rand()
        return r1 % rng - r2 % rng


def _cdiv(a: int, b: int) -> int:  # C integer division (truncates towards zero)
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _div_round(x: int, y: int) -> int:  # OD_DIV_ROUND
    return _cdiv(x + (-(y >> 1) if x < 0 else (y >> 1)), y)


def _int32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def _calc_y(r: int, g: int, b: int, cb: int, cr: int) -> int:
    cb -= 128
    cr -= 128
    ch = (4490222169144 * cr, -534117096223 * cb - 1334761232047 * cr, 5290866304968 * cb)
    res = [(v * 9745792000 - c + 4096) >> 13 for v, c in zip((r, g, b), ch)]
    yn = 1063 * res[0] + 3576 * res[1] + 361 * res[2]
    y0 = _cdiv(yn - (1780026171874 if yn < 0 else 0), 1780026171875)
    y0 = max(-16, min(y0, 238))

    def err(y: int) -> int:
        rec = [max(0, min(_div_round(2916394880000 * y + c, 9745792000), 65535)) for c in ch]
        return _int32(sum(_int32((v - q) * (v - q)) for v, q in zip((r, g, b), rec)))

    e0, e1 = err(y0), err(y0 + 1)
    if e1 < e0:
        y0 += 1
    elif e1 == e0:
        y0 += y0 & 1
    return y0 + 16


def _png2y4m_luma(img: np.ndarray) -> np.ndarray:
    """tools/png2y4m.c rgb_to_ycbcr at its defaults (4:2:0), pixel by pixel."""
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=2)
    h, w = img.shape[:2]
    px = img.astype(np.int64) * 257  # 8-bit expanded to 16 bits by repeating the byte
    kiss = _Kiss99()
    y = np.zeros((h, w), np.uint8)
    for j in range(0, h, 2):
        for i in range(0, w, 2):
            d = [(kiss.triangle(1223320000), kiss.triangle(1479548743), kiss.triangle(1255654969)) for _ in range(4)]

            def dither(jj: int, ii: int, k: int) -> tuple[int, int, int]:
                r, g, b = (int(v) for v in px[jj, ii])
                yd, cbd, crd = d[k][0], d[0][1], d[0][2]  # 4:2:0: the chroma dither of pixel 0
                return (
                    r + _div_round(2 * yd + 3 * crd, 8176000),
                    g + _div_round(2384 * yd + 361 * cbd + 1063 * crd, 9745792000),
                    b + _div_round(2 * yd + 3 * cbd, 8176000),
                )

            p0 = dither(j, i, 0)
            p1 = dither(j, i + 1, 1) if i + 1 < w else p0
            if j + 1 < h:
                p2 = dither(j + 1, i, 2)
                p3 = dither(j + 1, i + 1, 3) if i + 1 < w else p2
            else:
                p2, p3 = p0, p1
            rs, gs, bs = (sum(p[c] for p in (p0, p1, p2, p3)) for c in range(3))
            cb = max(0, min(_div_round(-29764 * rs - 100128 * gs + 129892 * bs, 304016865) + 128, 255))
            cr = max(0, min(_div_round(110236 * rs - 100128 * gs - 10108 * bs, 258011295) + 128, 255))
            for (jj, ii), p in zip(((j, i), (j, i + 1), (j + 1, i), (j + 1, i + 1)), (p0, p1, p2, p3)):
                if jj < h and ii < w:
                    y[jj, ii] = _calc_y(*p, cb, cr)
    return y


def test_kiss99_stream_and_dither_match_the_c_generator() -> None:
    ref = _Kiss99()
    assert daala.kiss99_stream(3000).tolist() == [ref.rand() for _ in range(3000)]
    ref = _Kiss99()
    want = [[ref.triangle(r) for r in (1223320000, 1479548743, 1255654969)] for _ in range(2000)]
    assert daala._triangle_dither(2000).tolist() == want


@settings(max_examples=12, deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    gray=st.booleans(),
    levels=st.sampled_from([(0, 256), (0, 2), (254, 256)]),  # anything, and near-saturated colours
    seed=st.integers(0, 2**32 - 1),
)
def test_daala_luma_matches_png2y4m_pixel_by_pixel(h: int, w: int, gray: bool, levels, seed: int) -> None:
    rng = np.random.default_rng(seed)
    img = rng.integers(*levels, size=(h, w) if gray else (h, w, 3), dtype=np.int64)
    img = np.where(img > 1, img, img * 255).astype(np.uint8) if levels == (0, 2) else img.astype(np.uint8)
    assert np.array_equal(daala.daala_luma(img), _png2y4m_luma(img))


def _dump_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """tools/dump_ssim.c calc_ssim (8-bit, par 1), pixel by pixel."""
    h, w = a.shape

    def kernel(sigma: float, max_len: int) -> list[int]:
        scale = 1 / (math.sqrt(2 * math.pi) * sigma)
        s = math.sqrt(0.5 * math.pi) * sigma * (1.0 / 256)
        length = 0 if s >= 1 else math.floor(sigma * math.sqrt(-2 * math.log(s)))
        n = max_len - 1 if length >= max_len else int(length)
        side = [int(256 * scale * math.exp(-0.5 / (sigma * sigma) * c * c) + 0.5) for c in range(n, 0, -1)]
        return side + [256 - 2 * sum(side)] + side[::-1]

    kv = kh = kernel(h * (1.5 / 256), min(w, h))
    off = len(kv) // 2
    total = weight = 0.0
    for y in range(h):
        for x in range(w):
            mx = my = x2 = xy = y2 = mw = 0
            for i, wv in enumerate(kv):
                for j, wh in enumerate(kh):
                    yy, xx = y - off + i, x - off + j
                    if 0 <= yy < h and 0 <= xx < w:
                        k, s, d = wv * wh, int(a[yy, xx]), int(b[yy, xx])
                        mx, my, mw = mx + k * s, my + k * d, mw + k
                        x2, xy, y2 = x2 + k * s * s, xy + k * s * d, y2 + k * d * d
            wf = float(mw)
            c1 = 255 * 255 * (0.01 * 0.01) * wf * wf
            c2 = 255 * 255 * (0.03 * 0.03) * wf * wf
            mx2, mxy, my2 = mx * float(mx), mx * float(my), my * float(my)
            num = mw * (2 * mxy + c1) * (c2 + 2 * (xy * wf - mxy))
            total += num / ((mx2 + my2 + c1) * (x2 * wf - mx2 + y2 * wf - my2 + c2))
            weight += mw
    return total / weight


@pytest.mark.parametrize("shape", [(40, 30), (200, 13), (600, 4), (1, 7)])
def test_daala_ssim_matches_dump_ssim_pixel_by_pixel(shape: tuple[int, int]) -> None:
    # (200, 13): sigma 1.17, 7 taps truncated at the borders; (600, 4): taps capped at min(W, H) - 1.
    rng = np.random.default_rng(sum(shape))
    a = rng.integers(0, 256, shape).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, shape), 0, 255).astype(np.uint8)
    assert daala.ssim_daala(a, b) == pytest.approx(_dump_ssim(a, b), rel=0, abs=1e-12)
