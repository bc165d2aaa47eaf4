"""Tests for srgan_lib.plumbing.files: reading any image file, finding image files, writing them atomically.

Oracles: Pillow's own conversions, exact integer arithmetic for 16-bit scaling, the EXIF 2.3
orientation table written out in numpy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from srgan_lib.plumbing.files import (ALPHA_SUFFIXES, IMAGE_SUFFIXES, SAVE_FORMATS, find_images, image_header, image_size,
                             read_rgb, read_rgb_alpha, save_image)


pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py


def _rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _blocky(h: int, w: int, seed: int = 0, block: int = 16) -> np.ndarray:
    """An asymmetric image of flat 16 x 16 blocks (survives JPEG almost unchanged)."""
    small = np.random.default_rng(seed).integers(0, 256, (h // block, w // block, 3), dtype=np.uint8)
    return np.repeat(np.repeat(small, block, axis=0), block, axis=1)


def test_one_suffix_set_with_its_writable_and_alpha_subsets() -> None:
    assert set(SAVE_FORMATS) <= IMAGE_SUFFIXES and ALPHA_SUFFIXES <= set(SAVE_FORMATS)
    assert IMAGE_SUFFIXES - set(SAVE_FORMATS) == {".pgm"}


# ------------------------------------------------------------------------------------------------
# save_image
# ------------------------------------------------------------------------------------------------


def test_save_image_roundtrip_and_no_silent_overwrite(tmp_path: Path) -> None:
    img = _rgb(20, 30)
    path = save_image(tmp_path / "a.png", img)
    assert np.array_equal(read_rgb(path), img)
    with pytest.raises(FileExistsError, match="a.png"):
        save_image(path, _rgb(20, 30, seed=1))
    assert np.array_equal(read_rgb(path), img)  # untouched
    save_image(path, _rgb(20, 30, seed=1), overwrite=True)
    assert np.array_equal(read_rgb(path), _rgb(20, 30, seed=1))
    # a float tensor in [0, 1] is accepted too
    save_image(tmp_path / "t.png", torch.from_numpy(img).permute(2, 0, 1).float() / 255)
    assert np.array_equal(read_rgb(tmp_path / "t.png"), img)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "t.png"]  # no temporary files


def test_save_image_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        save_image(tmp_path / "missing" / "a.png", _rgb(4, 4))
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="file"):
        save_image(tmp_path / "file" / "a.png", _rgb(4, 4))
    with pytest.raises(ValueError, match="unknown image file type"):
        save_image(tmp_path / "a.xyz", _rgb(4, 4))
    with pytest.raises(ValueError, match="uint8"):
        save_image(tmp_path / "a.png", np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="alpha"):
        save_image(tmp_path / "a.jpg", np.zeros((4, 4, 4), np.uint8))
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob(".*"))


def test_save_image_unwritable_folder(tmp_path: Path, refuse_writes_in) -> None:
    """The OS refuses the temporary file in the folder (as it does for a read-only folder, even to root on a
    root-squashed share): ``PermissionError`` naming the file and its folder, "not writable", nothing left there.
    The refusal is made by ``tempfile.mkstemp``, the call that creates the file, so the test runs as root too."""
    folder = tmp_path / "ro"
    folder.mkdir()
    refuse_writes_in(folder)
    with pytest.raises(PermissionError, match=rf"a\.png: the folder {re.escape(str(folder))} is not writable"):
        save_image(folder / "a.png", _rgb(4, 4))
    assert list(folder.iterdir()) == []


# ------------------------------------------------------------------------------------------------
# read_rgb
# ------------------------------------------------------------------------------------------------


def test_read_modes(tmp_path: Path) -> None:
    rgb = _rgb(12, 10)
    gray = rgb[..., 0]
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(gray).save(tmp_path / "gray.png")
    Image.fromarray(gray).convert("1").save(tmp_path / "bilevel.png")
    alpha = np.arange(120, dtype=np.uint8).reshape(12, 10)
    Image.fromarray(np.dstack([rgb, alpha])).save(tmp_path / "rgba.png")
    Image.fromarray(np.dstack([gray, alpha])).save(tmp_path / "la.png")
    pal = Image.fromarray(rgb).quantize(colors=16)
    pal.save(tmp_path / "pal.png")
    pal_t = pal.copy()
    pal_t.info["transparency"] = 0
    pal_t.save(tmp_path / "pal_t.png", transparency=0)

    assert np.array_equal(read_rgb(tmp_path / "rgb.png"), rgb)
    assert np.array_equal(read_rgb(tmp_path / "gray.png"), np.dstack([gray] * 3))
    bilevel = read_rgb(tmp_path / "bilevel.png")
    assert set(np.unique(bilevel)) <= {0, 255} and bilevel.shape == (12, 10, 3)
    out, a = read_rgb_alpha(tmp_path / "rgba.png")
    assert np.array_equal(out, rgb) and np.array_equal(a, alpha)
    assert np.array_equal(read_rgb(tmp_path / "rgba.png"), rgb)  # alpha dropped, colours as stored
    out, a = read_rgb_alpha(tmp_path / "la.png")
    assert np.array_equal(out, np.dstack([gray] * 3)) and np.array_equal(a, alpha)
    expected_pal = np.asarray(pal.convert("RGB"))
    assert np.array_equal(read_rgb(tmp_path / "pal.png"), expected_pal)
    out, a = read_rgb_alpha(tmp_path / "pal_t.png")
    assert np.array_equal(out, expected_pal) and a is not None and (a == 0).any()
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    with Image.open(tmp_path / "cmyk.jpg") as im:
        assert im.mode == "CMYK"
        assert np.array_equal(read_rgb(tmp_path / "cmyk.jpg"), np.asarray(im.convert("RGB")))  # Pillow's conversion
    for name in ("rgb", "gray", "bilevel", "rgba", "la", "pal", "pal_t"):
        img = read_rgb(tmp_path / f"{name}.png")
        assert img.dtype == np.uint8 and img.shape == (12, 10, 3) and img.flags.c_contiguous


def test_read_16bit_gray_is_scaled_exactly(tmp_path: Path) -> None:
    values = np.concatenate([np.arange(0, 65536, 97), [0, 1, 128, 129, 256, 65534, 65535]]).astype(np.uint16)
    values = values[: (values.size // 8) * 8].reshape(8, -1)
    Image.fromarray(values).save(tmp_path / "g16.png")
    with Image.open(tmp_path / "g16.png") as im:
        assert im.mode in ("I;16", "I")  # what Pillow gives for a 16-bit grayscale PNG
    out = read_rgb(tmp_path / "g16.png")
    exact = np.floor(values.astype(np.float64) * 255 / 65535 + 0.5).astype(np.uint8)
    assert np.array_equal(out[..., 0], exact) and np.array_equal(out[..., 2], exact)
    # a dark 16-bit image stays dark (no guessing the bit depth from the values)
    Image.fromarray(np.full((4, 4), 200, np.uint16)).save(tmp_path / "dark16.png")
    assert read_rgb(tmp_path / "dark16.png").max() == 1


def _png_rgb16(arr: np.ndarray) -> bytes:
    """A 16-bit RGB PNG written by hand (Pillow cannot write one)."""
    import struct
    import zlib

    h, w, _ = arr.shape
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_read_16bit_rgb_within_one_level(tmp_path: Path) -> None:
    arr = np.random.default_rng(3).integers(0, 65536, (9, 7, 3)).astype(np.uint16)
    (tmp_path / "c16.png").write_bytes(_png_rgb16(arr))
    out = read_rgb(tmp_path / "c16.png").astype(int)
    exact = np.floor(arr.astype(np.float64) * 255 / 65535 + 0.5).astype(int)
    assert out.shape == (9, 7, 3) and np.abs(out - exact).max() <= 1


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_jpeg(tmp_path: Path, orientation: int) -> None:
    """A JPEG with an orientation tag reads as the same JPEG without it, turned upright."""
    img = _blocky(32, 48)
    plain = tmp_path / "plain.jpg"
    tagged = tmp_path / "tagged.jpg"
    Image.fromarray(img).save(plain, quality=95)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(img).save(tagged, quality=95, exif=exif.tobytes())
    base = read_rgb(plain)
    # EXIF orientation -> how to turn the stored pixels upright (the EXIF 2.3 spec, in numpy)
    upright = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }[orientation]
    got = read_rgb(tagged)
    assert np.array_equal(got, upright(base))
    assert image_size(tagged) == got.shape[:2]


@pytest.mark.parametrize("kind", ["empty", "text", "truncated_png", "truncated_jpeg", "garbage_png"])
def test_bad_files_raise_value_error_naming_the_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"bad_{kind}.png"
    if kind == "empty":
        path.write_bytes(b"")
        problem = "empty file"
    elif kind == "text":
        path.write_text("this is not an image\n")
        problem = "not an image"
    elif kind == "garbage_png":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
        problem = "not an image|corrupt"
    else:
        fmt = "PNG" if kind == "truncated_png" else "JPEG"
        full = tmp_path / "full"
        Image.fromarray(_rgb(64, 64)).save(full, format=fmt)
        raw = full.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
        problem = "truncated or corrupt"
    with pytest.raises(ValueError, match=problem) as info:
        read_rgb(path)
    assert str(path) in str(info.value)


def test_image_header_size_and_frames_without_decoding(tmp_path: Path) -> None:
    """Width, height and frame count as Pillow stores them (an animated GIF: 2 frames); a truncated PNG's header
    still reads (its pixels fail later, in read_rgb); bad files raise errors that name them."""
    frames = [Image.fromarray(np.full((16, 20, 3), v, np.uint8)) for v in (10, 200)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    assert image_header(tmp_path / "anim.gif") == (20, 16, 2)
    Image.fromarray(_rgb(48, 64)).save(tmp_path / "full.png")
    raw = (tmp_path / "full.png").read_bytes()
    (tmp_path / "half.png").write_bytes(raw[: len(raw) // 2])
    assert image_header(tmp_path / "half.png") == (64, 48, 1)
    (tmp_path / "text.png").write_text("this is not an image\n")
    with pytest.raises(ValueError, match="text.png: not an image"):
        image_header(tmp_path / "text.png")
    with pytest.raises(FileNotFoundError, match="nope.png"):
        image_header(tmp_path / "nope.png")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.png"):
        read_rgb(tmp_path / "nope.png")
    with pytest.raises(ValueError, match="is a folder"):
        read_rgb(tmp_path)


def test_find_images_recursive_sorted_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "b" / "c").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    for p in ["z.png", "b/a.JPG", "b/c/d.bmp", ".hidden/x.png", ".y.png", "notes.txt"]:
        (tmp_path / p).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in find_images(tmp_path)] == ["b/a.JPG", "b/c/d.bmp", "z.png"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no image files"):
        find_images(empty)


# -- damaged multi-frame files and special files ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "TIFF"])
def test_every_cut_of_a_multi_frame_file_is_a_value_error_naming_it(tmp_path: Path, fmt: str) -> None:
    """Every cut of a multi-frame GIF or TIFF reads cleanly or raises ValueError naming it, whatever Pillow raised
    (a truncated GIF gives IndexError from GifImagePlugin._seek, a TIFF TypeError: Missing dimensions, when
    image_header counts the frames)."""
    import warnings

    frames = [Image.fromarray(_rgb(32, 32, seed=k)) for k in range(3)]
    full = tmp_path / f"full.{fmt.lower()}"
    frames[0].save(full, format=fmt, save_all=True, append_images=frames[1:])
    raw = full.read_bytes()
    path = tmp_path / f"cut.{fmt.lower()}"
    refused = 0
    for cut in range(8, len(raw), max(1, len(raw) // 150)):
        path.write_bytes(raw[:cut])
        for read in (image_header, image_size, read_rgb_alpha):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # Pillow's own "Truncated File Read"
                    read(path)
            except ValueError as exc:
                assert str(exc).startswith(f"{path}: "), (cut, read.__name__, exc)
                refused += 1
    assert refused > 100  # the cuts were bad files, not all readable


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_not_a_regular_file(tmp_path: Path) -> None:
    """A FIFO is refused as not a regular file (opening one would block), not reported as an empty file."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for read in (image_header, image_size, read_rgb):
        with pytest.raises(ValueError, match=r"pipe.png: not a regular file") as info:
            read(fifo)
        assert "empty" not in str(info.value)
