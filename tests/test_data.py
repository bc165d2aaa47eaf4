"""Tests for srgan_lib.data (reading, samples, training patches, evaluation pairs) and images.save_image.

Oracles: torch's own ``F.interpolate`` for the LR of training patches, a frozen copy of the original
patch sampler for crop positions, ``skimage.data`` for the bundled samples, exact integer arithmetic
for 16-bit scaling, ``imresize_matlab`` + SelfExSR's published LR images for evaluation pairs.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from srgan_lib import data
from srgan_lib.data import (
    SAMPLE_NAMES,
    EvalSet,
    LazyImages,
    PatchDataset,
    downscale_patches,
    find_images,
    image_size,
    load_eval_set,
    load_sample,
    make_loader,
    read_rgb,
    read_rgb_alpha,
    sample_path,
    to_val_pairs,
)
from srgan_lib.images import save_image


pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py


def _rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _blocky(h: int, w: int, seed: int = 0, block: int = 16) -> np.ndarray:
    """An asymmetric image of flat 16 x 16 blocks (survives JPEG almost unchanged)."""
    small = np.random.default_rng(seed).integers(0, 256, (h // block, w // block, 3), dtype=np.uint8)
    return np.repeat(np.repeat(small, block, axis=0), block, axis=1)


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


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_save_image_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            save_image(folder / "a.png", _rgb(4, 4))
    finally:
        folder.chmod(0o700)


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


# ------------------------------------------------------------------------------------------------
# Samples
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_samples_equal_scikit_image(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import skimage.data

    assert (data.SAMPLES_DIR / f"{name}.png").is_file(), "data/samples is part of the repository"
    repo = load_sample(name)
    ref = np.asarray(getattr(skimage.data, name)())
    if ref.ndim == 2:
        ref = np.repeat(ref[..., None], 3, axis=2)
    assert repo.dtype == np.uint8 and repo.shape == ref.shape and repo.shape[2] == 3
    assert np.array_equal(repo, ref)
    # without the repository (a pip install): straight from scikit-image, same pixels, and a real file
    monkeypatch.setattr(data, "SAMPLES_DIR", Path("/nonexistent"))
    assert np.array_equal(load_sample(name), repo)
    assert np.array_equal(read_rgb(sample_path(name)), repo)


def test_sample_names() -> None:
    assert set(data.TRAINING_SAMPLES) | set(data.HELD_OUT_SAMPLES) == set(SAMPLE_NAMES)
    assert not set(data.TRAINING_SAMPLES) & set(data.HELD_OUT_SAMPLES)
    assert sample_path("astronaut").name == "astronaut.png"
    with pytest.raises(ValueError, match="unknown sample 'lena'"):
        load_sample("lena")


# ------------------------------------------------------------------------------------------------
# PatchDataset
# ------------------------------------------------------------------------------------------------


def _images() -> list[np.ndarray]:
    return [_rgb(70, 90, 0), _rgb(64, 64, 1), _rgb(100, 50, 2)]


def _original_hr_patch(images, crop, seed, index, augment=True):
    """The sampler as first written (frozen copy): crop positions must never change."""
    areas = np.array([im.shape[0] * im.shape[1] for im in images], dtype=np.float64)
    cum = np.cumsum(areas / areas.sum())
    rng = np.random.default_rng([seed, index])
    k = min(int(np.searchsorted(cum, rng.random())), len(images) - 1)
    img = images[k]
    top = int(rng.integers(0, img.shape[0] - crop + 1))
    left = int(rng.integers(0, img.shape[1] - crop + 1))
    patch = img[top : top + crop, left : left + crop]
    if augment:
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        patch = np.rot90(patch, int(rng.integers(0, 4)))
    return np.ascontiguousarray(patch)


@pytest.mark.parametrize("augment", [True, False])
def test_items_match_the_original_sampler_and_torch_bicubic(augment: bool) -> None:
    images = _images()
    ds = PatchDataset(images, crop=48, scale=4, seed=7, augment=augment)
    for i in range(40):
        lr, hr = ds[i]
        ref = _original_hr_patch(images, 48, 7, i, augment)
        assert np.array_equal(ds.hr_patch(i), ref)
        assert hr.shape == (3, 48, 48) and lr.shape == (3, 12, 12)
        assert hr.dtype == lr.dtype == torch.float32
        assert torch.equal(hr, torch.from_numpy(ref).permute(2, 0, 1).float() / 255)
        oracle = F.interpolate(hr[None], scale_factor=0.25, mode="bicubic", antialias=True,
                               align_corners=False)[0].clamp(0, 1)  # (3, 12, 12)
        assert (lr - oracle).abs().max() < 1e-6
        assert 0 <= float(lr.min()) and float(lr.max()) <= 1


def test_orientation_views_equal_numpy_rot90() -> None:
    a = _rgb(6, 6, 9)
    for (flip, turns), view in data._ORIENT.items():
        assert np.array_equal(view(a), np.rot90(a[:, ::-1] if flip else a, turns)), (flip, turns)


def test_downscale_patches_matches_interpolate() -> None:
    from srgan_lib.resize import downscale_torch

    x = torch.rand(5, 3, 96, 96, dtype=torch.float32)
    assert (downscale_patches(x, 4) - downscale_torch(x, 4)).abs().max() < 1e-6
    x2 = torch.rand(2, 3, 24, 24, dtype=torch.float64)
    assert (downscale_patches(x2, 2) - downscale_torch(x2, 2)).abs().max() < 1e-12
    with pytest.raises(ValueError, match="multiple of the scale"):
        downscale_patches(torch.rand(1, 3, 10, 10), 4)


def test_item_is_the_same_alone_or_in_any_batch() -> None:
    ds = PatchDataset(_images(), crop=32, scale=4, seed=3)
    batch = ds.__getitems__(list(range(20, 36)))
    other = ds.__getitems__([35, 5, 20, 99])
    for j, i in enumerate(range(20, 36)):
        lr, hr = ds[i]
        assert torch.equal(lr, batch[j][0]) and torch.equal(hr, batch[j][1])
    assert torch.equal(other[0][0], batch[-1][0]) and torch.equal(other[2][1], batch[0][1])
    lr, hr = ds.batch(range(20, 36))  # (16, 3, 8, 8), (16, 3, 32, 32)
    assert lr.shape == (16, 3, 8, 8) and hr.shape == (16, 3, 32, 32)
    assert torch.equal(lr[3], batch[3][0]) and torch.equal(hr[15], batch[15][1])


def test_augmentation_options() -> None:
    images = [_rgb(40, 40, 5)]  # one image, crop = whole image: only the symmetry varies
    def variants(**kw):
        ds = PatchDataset(images, crop=40, scale=4, **kw)
        return {ds.hr_patch(i).tobytes() for i in range(64)}
    img = images[0]
    rots = {np.rot90(img, k).tobytes() for k in range(4)}
    flips = {img.tobytes(), img[:, ::-1].tobytes()}
    assert len(variants()) == 8  # all symmetries of the square
    assert variants(augment=False) == {img.tobytes()}
    assert variants(rotations=False) == flips
    assert variants(flips=False) == rots
    # switching an augmentation off never moves a crop
    big = [_rgb(90, 90, 6)]
    a = PatchDataset(big, crop=32, scale=4, seed=1)
    b = PatchDataset(big, crop=32, scale=4, seed=1, flips=False, rotations=False)
    assert all(a._draw(i)[:3] == b._draw(i)[:3] for i in range(50))


def test_small_images_rejected_or_skipped() -> None:
    images = [_rgb(100, 100), _rgb(30, 200), _rgb(64, 64)]
    with pytest.raises(ValueError, match=r"tiny: 200x30 is smaller than the 48x48 crop"):
        PatchDataset(images, crop=48, names=["big", "tiny", "ok"])
    with pytest.warns(UserWarning, match="tiny"):
        ds = PatchDataset(images, crop=48, names=["big", "tiny", "ok"], skip_small=True)
    assert ds.names == ["big", "ok"] and len(ds.images) == 2
    with pytest.raises(ValueError, match="no training images"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        PatchDataset([_rgb(10, 10)], crop=48, skip_small=True)
    with pytest.raises(ValueError, match="multiple of the scale"):
        PatchDataset(images, crop=50, scale=4)


def test_accepts_gray_and_rgba_arrays_rejects_others() -> None:
    gray = _rgb(50, 50)[..., 0]
    rgba = np.dstack([_rgb(50, 50), np.zeros((50, 50), np.uint8)])
    ds = PatchDataset([gray, rgba], crop=48, augment=False)
    assert all(im.shape == (50, 50, 3) for im in ds.images)
    assert np.array_equal(ds.images[0][..., 2], gray)
    with pytest.raises(ValueError, match=r"x: expected \(H, W, 3\) uint8"):
        PatchDataset([np.zeros((50, 50, 3), np.float32)], crop=48, names=["x"])


def _write_folder(root: Path) -> list[np.ndarray]:
    (root / "sub" / "deeper").mkdir(parents=True)
    imgs = [_rgb(60, 80, 10), _rgb(72, 64, 11), _rgb(64, 100, 12)]
    Image.fromarray(imgs[0]).save(root / "a.png")
    Image.fromarray(imgs[1][..., 0]).save(root / "sub" / "b.png")  # grayscale file
    Image.fromarray(np.dstack([imgs[2], np.full((64, 100), 255, np.uint8)])).save(root / "sub" / "deeper" / "c.png")
    (root / "sub" / "notes.txt").write_text("ignored")
    return [imgs[0], np.dstack([imgs[1][..., 0]] * 3), imgs[2]]


def test_from_folder_recursive_in_memory_and_lazy_agree(tmp_path: Path) -> None:
    expected = _write_folder(tmp_path)
    eager = PatchDataset.from_folder(tmp_path, crop=32, seed=2)
    assert not eager.lazy and [Path(n).name for n in eager.names] == ["a.png", "b.png", "c.png"]
    for got, want in zip(eager.images, expected):
        assert np.array_equal(got, want)
    lazy = PatchDataset.from_folder(tmp_path, crop=32, seed=2, max_memory_bytes=1000, cache_images=1)
    assert lazy.lazy and isinstance(lazy.images, LazyImages)
    for i in range(30):
        a, b = eager[i], lazy[i]
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert len(lazy.images._cache) == 1  # LRU bounded
    # a pickled copy (what a spawned DataLoader worker gets) starts with an empty cache
    import pickle

    clone = pickle.loads(pickle.dumps(lazy))
    assert len(clone.images._cache) == 0 and torch.equal(clone[3][1], eager[3][1])


def test_from_folder_bad_and_small_files(tmp_path: Path) -> None:
    _write_folder(tmp_path)
    (tmp_path / "sub" / "broken.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"broken\.png: empty file"):
        PatchDataset.from_folder(tmp_path, crop=32)
    (tmp_path / "sub" / "broken.png").unlink()
    Image.fromarray(_rgb(20, 200)).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match=r"small\.png: 200x20 is smaller"):
        PatchDataset.from_folder(tmp_path, crop=32)
    with pytest.warns(UserWarning, match="small.png"):
        ds = PatchDataset.from_folder(tmp_path, crop=32, skip_small=True)
    assert len(ds.images) == 3


# ------------------------------------------------------------------------------------------------
# Prepared (memory-mapped) training images
# ------------------------------------------------------------------------------------------------


def _same_patches(a: PatchDataset, b: PatchDataset, n: int = 40) -> None:
    for i in range(n):
        (la, ha), (lb, hb) = a[i], b[i]
        assert torch.equal(ha, hb) and torch.equal(la, lb), i
    ia, ib = list(range(100, 116)), list(range(100, 116))
    assert all(torch.equal(x, y) for x, y in zip(a.batch(ia), b.batch(ib)))


def _cache_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_prepared_images_give_the_same_patches_and_are_reused(tmp_path: Path, monkeypatch) -> None:
    import pickle

    expected = _write_folder(tmp_path / "imgs")
    cache = tmp_path / "cache"
    decoded = PatchDataset.from_folder(tmp_path / "imgs", crop=32, seed=5, prepare=False)
    mapped = PatchDataset.from_folder(tmp_path / "imgs", crop=32, seed=5, prepare=True, cache_dir=cache,
                                      progress=False)
    assert mapped.prepared and not decoded.prepared and isinstance(mapped.images, data.MappedImages)
    assert mapped.names == decoded.names and mapped.sizes == decoded.sizes
    for got, want in zip(mapped.images, expected):
        assert np.array_equal(got, want)  # the file holds read_rgb's pixels (gray replicated, alpha dropped)
    _same_patches(decoded, mapped)
    files = _cache_files(cache)
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".npy")
    assert files[0].startswith("imgs-")
    # a pickled copy (a spawned worker) re-opens the file instead of carrying the pixels
    blob = pickle.dumps(mapped)
    assert len(blob) < 20_000 and torch.equal(pickle.loads(blob)[7][1], decoded[7][1])
    # a second preparation of the unchanged folder decodes nothing
    monkeypatch.setattr(data, "read_rgb", lambda p: pytest.fail(f"decoded {p} again"))
    again = PatchDataset.from_folder(tmp_path / "imgs", crop=32, seed=5, prepare=True, cache_dir=cache)
    _same_patches(decoded, again, n=5)
    # prepare=None prepares only above PREPARE_ABOVE_BYTES (tiny images: decoded in memory)
    monkeypatch.undo()
    assert not PatchDataset.from_folder(tmp_path / "imgs", crop=32, cache_dir=cache).prepared
    monkeypatch.setattr(data, "PREPARE_ABOVE_BYTES", 100)
    assert PatchDataset.from_folder(tmp_path / "imgs", crop=32, cache_dir=cache, progress=False).prepared


def test_prepared_images_follow_changes_to_the_folder(tmp_path: Path) -> None:
    _write_folder(tmp_path / "imgs")
    cache = tmp_path / "cache"
    kw = dict(crop=32, seed=1, prepare=True, cache_dir=cache, progress=False)
    first = PatchDataset.from_folder(tmp_path / "imgs", **kw)
    old_files = _cache_files(cache)
    # replace a file's pixels (same size and name): the preparation is redone, the old one deleted
    Image.fromarray(_rgb(60, 80, 99)).save(tmp_path / "imgs" / "a.png")
    os.utime(tmp_path / "imgs" / "a.png", ns=(1, 1))  # even a file restored with an old mtime is seen
    changed = PatchDataset.from_folder(tmp_path / "imgs", **kw)
    assert np.array_equal(changed.images[0], _rgb(60, 80, 99)) and not np.array_equal(first.images[0], changed.images[0])
    new_files = _cache_files(cache)
    assert len(new_files) == 2 and not set(new_files) & set(old_files)
    _same_patches(PatchDataset.from_folder(tmp_path / "imgs", crop=32, seed=1, prepare=False), changed)
    # a new file changes the set
    Image.fromarray(_rgb(50, 50, 7)).save(tmp_path / "imgs" / "d.png")
    grown = PatchDataset.from_folder(tmp_path / "imgs", **kw)
    assert len(grown.names) == 4 and len(_cache_files(cache)) == 2


def test_interrupted_or_killed_preparation_is_never_used(tmp_path: Path, monkeypatch) -> None:
    import json

    _write_folder(tmp_path / "imgs")
    files = find_images(tmp_path / "imgs")
    cache = tmp_path / "cache"
    real_read = data.read_rgb
    calls = []

    def dies_on_second(path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C half-way through
        return real_read(path)

    monkeypatch.setattr(data, "read_rgb", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        data.prepare_images(files, cache, progress=False)
    assert _cache_files(cache) == []  # no data file, no index, no temporary file
    monkeypatch.undo()

    # A kill -9 leaves what atomic_write could not clean up: simulate the worst cases one at a time.
    good = data.prepare_images(files, cache, progress=False)
    index_file = good.data_file.with_suffix(".json")
    want = [np.array(im) for im in good]
    # (1) the data file renamed but no index yet: the data file alone is ignored, prepared again
    index_file.unlink()
    good.data_file.write_bytes(good.data_file.read_bytes()[:-10])
    again = data.prepare_images(files, cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(again, want))
    # (2) an index whose data file is short (e.g. an old index beside a half-copied file)
    good.data_file.write_bytes(good.data_file.read_bytes()[:-10])
    assert json.loads(index_file.read_text())["total_bytes"] == sum(a.size for a in want)
    again = data.prepare_images(files, cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(again, want))
    # (3) a stale temporary file of a killed preparation is removed by the next preparation; one that a live
    # preparation is still writing (locked) is kept
    from srgan_lib.images import temp_file_beside

    fd, stale = temp_file_beside(good.data_file)
    os.close(fd)  # its writer is gone: the lock with it
    fd, fresh = temp_file_beside(good.data_file)  # a writer in progress (this process holds the lock)
    stale, fresh = Path(stale), Path(fresh)
    try:
        Image.fromarray(_rgb(50, 50, 8)).save(tmp_path / "imgs" / "e.png")
        data.prepare_images(find_images(tmp_path / "imgs"), cache, progress=False)
        assert not stale.exists() and fresh.exists()
    finally:
        os.close(fd)


def test_prepared_dataset_through_a_worker_loader(tmp_path: Path) -> None:
    _write_folder(tmp_path / "imgs")
    kw = dict(crop=32, seed=3)
    mapped = PatchDataset.from_folder(tmp_path / "imgs", prepare=True, cache_dir=tmp_path / "c", progress=False, **kw)
    decoded = PatchDataset.from_folder(tmp_path / "imgs", prepare=False, **kw)
    got = list(make_loader(mapped, batch_size=4, num_workers=1, steps=3))
    want = list(make_loader(decoded, batch_size=4, num_workers=0, steps=3))
    for (la, ha), (lb, hb) in zip(got, want):
        assert torch.equal(la, lb) and torch.equal(ha, hb)


# ------------------------------------------------------------------------------------------------
# training_images: which images a run trains on
# ------------------------------------------------------------------------------------------------


@pytest.fixture()
def no_network(monkeypatch):
    """Any network use by srgan_lib.download fails the test."""
    from srgan_lib import download as dl

    monkeypatch.setattr(dl, "is_online", lambda *a, **k: pytest.fail("is_online called"))
    monkeypatch.setattr(dl, "download", lambda *a, **k: pytest.fail("download called"))
    monkeypatch.delenv(data.TRAIN_ENV, raising=False)
    return dl


def test_training_images_from_a_folder_or_the_environment(tmp_path: Path, monkeypatch, no_network) -> None:
    _write_folder(tmp_path / "mine")
    got = data.training_images(tmp_path / "mine")
    assert not got.toy and got.folder == tmp_path / "mine" and list(got.paths) == find_images(tmp_path / "mine")
    assert "3 training images" in got.source and "(given)" in got.source
    monkeypatch.setenv(data.TRAIN_ENV, str(tmp_path / "mine"))
    env = data.training_images(download=False)
    assert env.paths == got.paths and "$SRGAN_TRAIN_DATA" in env.source
    assert env.summary == "3 training images from mine ($SRGAN_TRAIN_DATA)" and str(tmp_path) not in env.summary
    ds = env.patch_dataset(crop=32, seed=0)
    _same_patches(ds, PatchDataset.from_folder(tmp_path / "mine", crop=32, seed=0), n=5)
    monkeypatch.setenv(data.TRAIN_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="nowhere: not a folder"):
        data.training_images()


def test_training_images_offline_falls_back_to_the_samples_with_a_warning(tmp_path: Path, no_network) -> None:
    with pytest.warns(data.ToyDataWarning, match=r"no DIV2K \(download=False\).*toy-sized"):
        got = data.training_images(download=False, root=tmp_path)
    assert got.toy and got.folder is None
    assert [p.stem for p in got.paths] == list(data.TRAINING_SAMPLES)
    assert "toy" in got.source and "chelsea" in got.source and got.summary == got.source
    ds = got.patch_dataset(crop=96)
    assert not ds.prepared and [im.shape for im in ds.images] == [load_sample(n).shape for n in data.TRAINING_SAMPLES]


def test_training_images_finds_or_downloads_div2k(tmp_path: Path, monkeypatch) -> None:
    import dataclasses

    from srgan_lib import download as dl

    monkeypatch.delenv(data.TRAIN_ENV, raising=False)
    monkeypatch.setitem(dl.REGISTRY, "DIV2K-train", dataclasses.replace(dl.REGISTRY["DIV2K-train"], image_count=3))
    calls = []

    def fake_download(name, root=None, **kw):  # stands in for the 3.5 GB download (tested in test_download.py)
        calls.append((name, root))
        folder = Path(root) / "DIV2K-train"
        folder.mkdir()
        for k in range(3):  # a flat folder, as the real download installs
            Image.fromarray(_rgb(40, 50, k)).save(folder / f"{k + 1:04d}.png")
        return folder

    monkeypatch.setattr(dl, "download", fake_download)
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: pytest.fail("probed in a quick run"))
    with pytest.warns(data.ToyDataWarning, match="quick run"):  # conftest sets SRGAN_QUICK=1
        assert data.training_images(root=tmp_path).toy
    monkeypatch.setenv("SRGAN_QUICK", "0")
    # offline (the probe says so): bundled samples, and the warning says why
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: False)
    with pytest.warns(data.ToyDataWarning, match="offline"):
        assert data.training_images(root=tmp_path).toy
    assert calls == []
    # online: downloaded once into the root ...
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: True)
    got = data.training_images(root=tmp_path)
    assert not got.toy and got.folder == tmp_path / "DIV2K-train" and len(got) == 3 and "DIV2K" in got.source
    assert calls == [("DIV2K-train", tmp_path)]
    # ... and found there afterwards without the network, even with download=False
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: pytest.fail("probed although DIV2K is present"))
    assert data.training_images(root=tmp_path, download=False).paths == got.paths and len(calls) == 1


def test_training_images_failed_download(tmp_path: Path, monkeypatch) -> None:
    from srgan_lib import download as dl

    monkeypatch.delenv(data.TRAIN_ENV, raising=False)

    def broken(name, root=None, **kw):
        raise dl.DownloadError("could not download DIV2K_train_HR.zip\nmore")

    monkeypatch.setattr(dl, "download", broken)
    monkeypatch.setattr(dl, "is_online", lambda *a, **k: True)
    monkeypatch.setenv("SRGAN_QUICK", "0")
    with pytest.warns(data.ToyDataWarning, match="the DIV2K download failed: could not download"):
        assert data.training_images(root=tmp_path).toy  # automatic: falls back
    with pytest.raises(dl.DownloadError, match="could not download"):
        data.training_images(root=tmp_path, download=True)  # asked for: raises


def test_make_loader_batches_are_deterministic_and_resumable() -> None:
    ds = PatchDataset(_images(), crop=32, scale=4, seed=4)
    batches = list(make_loader(ds, batch_size=4, num_workers=0, steps=3))
    assert len(batches) == 3
    lr, hr = batches[1]
    assert lr.shape == (4, 3, 8, 8) and hr.shape == (4, 3, 32, 32)
    for b in range(4):
        assert torch.equal(hr[b], ds[4 + b][1]) and torch.equal(lr[b], ds[4 + b][0])
    resumed = list(make_loader(ds, batch_size=4, first_step=2, steps=1))
    assert torch.equal(resumed[0][1], batches[2][1])
    # the engine's kind of loader (automatic batching + default collation) gives the same tensors
    from torch.utils.data import DataLoader

    plain = list(DataLoader(ds, batch_size=4, sampler=range(12)))
    for (a_lr, a_hr), (b_lr, b_hr) in zip(plain, batches):
        assert torch.equal(a_lr, b_lr) and torch.equal(a_hr, b_hr)


@pytest.mark.slow
def test_loader_with_a_worker_gives_the_same_batches() -> None:
    ds = PatchDataset(_images(), crop=32, scale=4, seed=4)
    zero = list(make_loader(ds, batch_size=4, num_workers=0, steps=2))
    one = list(make_loader(ds, batch_size=4, num_workers=1, steps=2))
    for (a_lr, a_hr), (b_lr, b_hr) in zip(zero, one):
        assert torch.equal(a_lr, b_lr) and torch.equal(a_hr, b_hr)


# ------------------------------------------------------------------------------------------------
# Evaluation pairs
# ------------------------------------------------------------------------------------------------


def test_eval_set_from_folder(tmp_path: Path) -> None:
    from srgan_lib.resize import imresize_matlab

    folder = tmp_path / "MySet"
    folder.mkdir()
    a, b = _rgb(50, 43, 1), _rgb(36, 40, 2)
    Image.fromarray(a).save(folder / "a.png")
    Image.fromarray(b[..., 1]).save(folder / "b.png")  # grayscale
    es = load_eval_set(folder, scale=4)
    assert isinstance(es, EvalSet) and es.name == "MySet" and es.scale == 4 and es.names == ["a", "b"]
    name, lr, hr = es[0]
    assert hr.shape == (48, 40, 3) and np.array_equal(hr, a[:48, :40])  # top-left modcrop
    assert np.array_equal(lr, imresize_matlab(a[:48, :40], 0.25)) and lr.shape == (12, 10, 3)
    assert np.array_equal(es[1][2], np.dstack([b[..., 1]] * 3))
    pairs = es.tensors()
    assert pairs[0][0].shape == (3, 12, 10) and pairs[0][1].shape == (3, 48, 40)
    assert all(t.dtype == torch.float32 and 0 <= float(t.min()) and float(t.max()) <= 1 for p in pairs for t in p)
    assert torch.equal(pairs[1][1], to_val_pairs([es[1]])[0][1])
    x3 = load_eval_set(folder, scale=3)
    assert x3[0][2].shape == (48, 42, 3) and x3[0][1].shape == (16, 14, 3)
    assert len(load_eval_set(folder, limit=1)) == 1


def test_eval_set_by_name_root_env_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Set5").mkdir()
    for k in range(5):
        Image.fromarray(_rgb(16, 16, k)).save(tmp_path / "Set5" / f"{k}.png")
    assert len(load_eval_set("set5", root=tmp_path)) == 5
    monkeypatch.setenv("SRGAN_DATA", str(tmp_path))
    es = load_eval_set("Set5")
    assert es.name == "Set5" and es.folder == tmp_path / "Set5"
    from srgan_lib.download import DatasetNotFound

    with pytest.raises(DatasetNotFound) as info:
        load_eval_set("B100", root=tmp_path)  # root alone: a checkout's ../shared/datasets is not searched
    msg = str(info.value)
    assert str(tmp_path / "BSD100") in msg and "huggingface.co" in msg and "load_eval_set(" in msg
    with pytest.raises(ValueError, match="unknown evaluation set 'Set6'"):
        load_eval_set("Set6")
    with pytest.raises(FileNotFoundError, match="evaluation folder not found"):
        load_eval_set(tmp_path / "nowhere")


def test_eval_sets_reproduce_selfexsr_lr(shared_datasets: Path) -> None:
    """Set5 and Set14 LR made here equal SelfExSR's published x4 LR images, bit for bit."""
    for name in ("Set5", "Set14"):
        es = load_eval_set(shared_datasets / name, scale=4)
        assert len(es) == {"Set5": 5, "Set14": 14}[name]
        for stem, lr, hr in es:
            ref = read_rgb(shared_datasets / "SelfExSR_x4_LR" / name / f"{stem}.png")
            assert hr.shape[0] % 4 == 0 and hr.shape[1] % 4 == 0
            assert np.array_equal(lr, ref), f"{name}/{stem}"


@pytest.mark.slow
def test_bsd100_reproduces_selfexsr_lr(shared_datasets: Path) -> None:
    """BSD100 (32 of whose HR files lack a last row or column) still gives SelfExSR's x4 LR exactly."""
    es = load_eval_set(shared_datasets / "BSD100", scale=4)
    assert len(es) == 100
    for stem, lr, hr in es:
        assert hr.shape[:2] in ((320, 480), (480, 320)), stem
        assert np.array_equal(lr, read_rgb(shared_datasets / "SelfExSR_x4_LR" / "BSD100" / f"{stem}.png")), stem
