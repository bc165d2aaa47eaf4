"""Tests for srgan_lib.data (training patches, their storage, training images, evaluation pairs).

Oracles: torch's own ``F.interpolate`` for the LR of training patches, a frozen copy of the original
patch sampler for crop positions, ``imresize_matlab`` + SelfExSR's published LR images for evaluation pairs.
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
from torch.utils.data import DataLoader

from srgan_lib import data

from srgan_lib.plumbing import image_cache
from srgan_lib.data import EvalSet, PatchDataset, load_eval_set, to_val_pairs
from srgan_lib.plumbing.files import find_images, read_rgb
from srgan_lib.plumbing.image_cache import LazyImages, MappedImages, image_store, prepare_images
from srgan_lib.plumbing.samples import TRAINING_SAMPLES, load_sample


pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py


def _rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


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
        store = image_store(images, ["big", "tiny", "ok"], crop=48, skip_small=True)
    ds = PatchDataset(store, crop=48)
    assert ds.names == ["big", "ok"] and len(ds.images) == 2
    with pytest.raises(ValueError, match="no training images"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image_store([_rgb(10, 10)], crop=48, skip_small=True)
    with pytest.raises(ValueError, match="multiple of the scale"):
        PatchDataset(images, crop=50, scale=4)


def test_a_store_or_its_arrays_give_the_same_patches(same_patches) -> None:
    """``PatchDataset(arrays, ...)`` is ``PatchDataset(image_store(arrays, ...), ...)``; a store carries its names,
    and one made for a smaller crop is refused by name."""
    images = [_rgb(40, 40), _rgb(60, 64, seed=1)]
    same_patches(PatchDataset(images, crop=32, seed=3), PatchDataset(image_store(images, crop=32), crop=32, seed=3))
    with pytest.raises(ValueError, match="image_store"):
        PatchDataset(image_store(images, crop=32), crop=32, names=["a", "b"])
    with pytest.raises(ValueError, match=r"image 0: 40x40 is smaller than the 48x48 crop"):
        PatchDataset(image_store(images, crop=16), crop=48)


def test_accepts_gray_and_rgba_arrays_rejects_others() -> None:
    gray = _rgb(50, 50)[..., 0]
    rgba = np.dstack([_rgb(50, 50), np.zeros((50, 50), np.uint8)])
    ds = PatchDataset([gray, rgba], crop=48, augment=False)
    assert all(im.shape == (50, 50, 3) for im in ds.images)
    assert np.array_equal(ds.images[0][..., 2], gray)
    with pytest.raises(ValueError, match=r"x: expected \(H, W, 3\) uint8"):
        PatchDataset([np.zeros((50, 50, 3), np.float32)], crop=48, names=["x"])



def test_from_folder_recursive_in_memory_and_lazy_agree(make_image_folder, tmp_path: Path) -> None:
    expected = make_image_folder(tmp_path)
    eager = PatchDataset.from_folder(tmp_path, crop=32, seed=2)
    assert not eager.store.lazy and [Path(n).name for n in eager.names] == ["a.png", "b.png", "c.png"]
    for got, want in zip(eager.images, expected):
        assert np.array_equal(got, want)
    lazy = PatchDataset.from_folder(tmp_path, crop=32, seed=2, max_memory_bytes=1000, cache_images=1)
    assert lazy.store.lazy and isinstance(lazy.images, LazyImages)
    for i in range(30):
        a, b = eager[i], lazy[i]
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert len(lazy.images._cache) == 1  # LRU bounded
    # a pickled copy (what a spawned DataLoader worker gets) starts with an empty cache
    import pickle

    clone = pickle.loads(pickle.dumps(lazy))
    assert len(clone.images._cache) == 0 and torch.equal(clone[3][1], eager[3][1])


def test_from_folder_bad_and_small_files(make_image_folder, tmp_path: Path) -> None:
    make_image_folder(tmp_path)
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



def _cache_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_prepared_images_give_the_same_patches_and_are_reused(same_patches, make_image_folder, tmp_path: Path,
                                                              monkeypatch) -> None:
    import pickle

    expected = make_image_folder(tmp_path / "imgs")
    cache = tmp_path / "cache"
    decoded = PatchDataset.from_folder(tmp_path / "imgs", crop=32, seed=5, prepare=False)
    mapped = PatchDataset.from_folder(tmp_path / "imgs", crop=32, seed=5, prepare=True, cache_dir=cache,
                                      progress=False)
    assert mapped.store.prepared and not decoded.store.prepared and isinstance(mapped.images, MappedImages)
    assert mapped.names == decoded.names and mapped.sizes == decoded.sizes
    for got, want in zip(mapped.images, expected):
        assert np.array_equal(got, want)  # the file holds read_rgb's pixels (gray replicated, alpha dropped)
    same_patches(decoded, mapped)
    files = _cache_files(cache)
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".npy")
    assert files[0].startswith("imgs-")
    # a pickled copy (a spawned worker) re-opens the file instead of carrying the pixels
    blob = pickle.dumps(mapped)
    assert len(blob) < 20_000 and torch.equal(pickle.loads(blob)[7][1], decoded[7][1])
    # a second preparation of the unchanged folder decodes nothing
    monkeypatch.setattr(image_cache, "read_rgb", lambda p: pytest.fail(f"decoded {p} again"))
    again = PatchDataset.from_folder(tmp_path / "imgs", crop=32, seed=5, prepare=True, cache_dir=cache)
    same_patches(decoded, again, n=5)
    # prepare=None prepares only above PREPARE_ABOVE_BYTES (tiny images: decoded in memory)
    monkeypatch.undo()
    assert not PatchDataset.from_folder(tmp_path / "imgs", crop=32, cache_dir=cache).store.prepared
    monkeypatch.setattr(image_cache, "PREPARE_ABOVE_BYTES", 100)
    assert PatchDataset.from_folder(tmp_path / "imgs", crop=32, cache_dir=cache, progress=False).store.prepared


def test_prepared_images_follow_changes_to_the_folder(same_patches, make_image_folder, tmp_path: Path) -> None:
    make_image_folder(tmp_path / "imgs")
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
    same_patches(PatchDataset.from_folder(tmp_path / "imgs", crop=32, seed=1, prepare=False), changed)
    # a new file changes the set
    Image.fromarray(_rgb(50, 50, 7)).save(tmp_path / "imgs" / "d.png")
    grown = PatchDataset.from_folder(tmp_path / "imgs", **kw)
    assert len(grown.names) == 4 and len(_cache_files(cache)) == 2


def test_interrupted_or_killed_preparation_is_never_used(make_image_folder, tmp_path: Path, monkeypatch) -> None:
    import json

    make_image_folder(tmp_path / "imgs")
    files = find_images(tmp_path / "imgs")
    cache = tmp_path / "cache"
    real_read = image_cache.read_rgb
    calls = []

    def dies_on_second(path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C half-way through
        return real_read(path)

    monkeypatch.setattr(image_cache, "read_rgb", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        prepare_images(files, cache, progress=False)
    assert _cache_files(cache) == []  # no data file, no index, no temporary file
    monkeypatch.undo()

    # A kill -9 leaves what atomic_write could not clean up: simulate the worst cases one at a time.
    good = prepare_images(files, cache, progress=False)
    index_file = good.data_file.with_suffix(".json")
    want = [np.array(im) for im in good]
    # (1) the data file renamed but no index yet: the data file alone is ignored, prepared again
    index_file.unlink()
    good.data_file.write_bytes(good.data_file.read_bytes()[:-10])
    again = prepare_images(files, cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(again, want))
    # (2) an index whose data file is short (e.g. an old index beside a half-copied file)
    good.data_file.write_bytes(good.data_file.read_bytes()[:-10])
    assert json.loads(index_file.read_text())["total_bytes"] == sum(a.size for a in want)
    again = prepare_images(files, cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(again, want))
    # (3) a stale temporary file of a killed preparation is removed by the next preparation; one that a live
    # preparation is still writing (locked) is kept
    from srgan_lib.plumbing.files import temp_file_beside

    fd, stale = temp_file_beside(good.data_file)
    os.close(fd)  # its writer is gone: the lock with it
    fd, fresh = temp_file_beside(good.data_file)  # a writer in progress (this process holds the lock)
    stale, fresh = Path(stale), Path(fresh)
    try:
        Image.fromarray(_rgb(50, 50, 8)).save(tmp_path / "imgs" / "e.png")
        prepare_images(find_images(tmp_path / "imgs"), cache, progress=False)
        assert not stale.exists() and fresh.exists()
    finally:
        os.close(fd)



# -- the fault probe of issue 28: prepared training data -------------------------------------------------------


def test_an_index_whose_offsets_lie_is_not_used(make_image_folder, tmp_path: Path) -> None:
    """Weak: an index whose offsets lie gave "cannot reshape array of size 0" without the file's name. Such an index
    is set aside with a warning naming it and the images are prepared again; a short view names the data file."""
    import json

    make_image_folder(tmp_path / "imgs")
    files = find_images(tmp_path / "imgs")
    cache = tmp_path / "cache"
    good = prepare_images(files, cache, progress=False)
    want = [np.array(im) for im in good]
    index_file = good.data_file.with_suffix(".json")
    index = json.loads(index_file.read_text())
    index["files"][-1]["offset"] = index["total_bytes"]  # past the end: a zero-byte view
    index_file.write_text(json.dumps(index))
    with pytest.warns(UserWarning, match=f"{index_file.name}: .*offsets.*preparing the images again"):
        again = prepare_images(files, cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(again, want))
    lying = MappedImages(good.data_file, good.paths, good.sizes, [0, 0, 10**9])
    with pytest.raises(ValueError, match=f"{good.data_file}: image 2 .*lies beyond the end"):
        lying[2]


def test_a_cache_folder_that_cannot_be_written_is_one_line(make_image_folder, tmp_path: Path, monkeypatch) -> None:
    """Weak: a read-only cache folder gave a raw errno (root ignores permission bits: a file in the way, and a folder
    that os.access calls unwritable)."""
    make_image_folder(tmp_path / "imgs")
    files = find_images(tmp_path / "imgs")
    (tmp_path / "f").write_text("a file")
    with pytest.raises(OSError) as info:
        prepare_images(files, tmp_path / "f" / "cache", progress=False)
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path / 'f' / 'cache'}: ") and "f is a file, not a folder" in msg
    assert "SRGAN_DATA" in msg and "[Errno" not in msg
    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if Path(p) == ro else real(p, mode, **k))
    with pytest.raises(PermissionError, match=f"{ro}: cannot write in this folder .*SRGAN_DATA"):
        prepare_images(files, ro, progress=False)


def test_an_image_rewritten_with_the_same_size_and_mtime_is_prepared_again(tmp_path: Path) -> None:
    """Weak: the key was paths, byte sizes and mtimes, so a file rewritten in place with the same size and mtime was
    served stale. The key now hashes the head and the tail of each file too."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    for k in range(2):
        Image.fromarray(_rgb(40, 50, k)).save(folder / f"{k}.bmp")  # a BMP's size depends on its shape only
    files = find_images(folder)
    first = prepare_images(files, tmp_path / "cache", progress=False)
    st = files[1].stat()
    Image.fromarray(_rgb(40, 50, 9)).save(files[1])
    os.utime(files[1], ns=(st.st_atime_ns, st.st_mtime_ns))
    assert files[1].stat().st_size == st.st_size and files[1].stat().st_mtime_ns == st.st_mtime_ns
    again = prepare_images(files, tmp_path / "cache", progress=False)
    assert np.array_equal(again[1], _rgb(40, 50, 9)) and not np.array_equal(first[1], again[1])


_KILL_MIDWAY = """
import os, signal, sys
from pathlib import Path
from srgan_lib.plumbing import image_cache
from srgan_lib.plumbing.files import find_images

real, calls = image_cache.read_rgb, []
def killed_on_third(path):
    calls.append(path)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # no Python clean-up at all: what a kill -9 leaves
    return real(path)
image_cache.read_rgb = killed_on_third
image_cache.prepare_images(find_images(sys.argv[1]), sys.argv[2], progress=False)
"""


@pytest.mark.skipif(not hasattr(os, "kill") or os.name != "posix", reason="needs SIGKILL")
def test_a_preparation_killed_midway_is_never_used(make_image_folder, tmp_path: Path) -> None:
    """Weak, not reached by the probe: kill -9 a preparation half-way through its data file. Its partial file is
    never used: no index names it, the next preparation removes it and decodes the images again."""
    import subprocess
    import sys

    expected = make_image_folder(tmp_path / "imgs")
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(Path(image_cache.__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "-c", _KILL_MIDWAY, str(tmp_path / "imgs"), str(cache)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == -9, result.stderr
    left = _cache_files(cache)
    assert len(left) == 1 and left[0].endswith(".tmp") and (cache / left[0]).stat().st_size > 0, left  # partial
    again = prepare_images(find_images(tmp_path / "imgs"), cache, progress=False)
    assert all(np.array_equal(got, want) for got, want in zip(again, expected))
    assert [n[-4:] for n in _cache_files(cache)] == ["json", ".npy"]  # the partial file is gone


def test_prepared_dataset_through_a_worker_loader(make_image_folder, tmp_path: Path) -> None:
    make_image_folder(tmp_path / "imgs")
    kw = dict(crop=32, seed=3)
    mapped = PatchDataset.from_folder(tmp_path / "imgs", prepare=True, cache_dir=tmp_path / "c", progress=False, **kw)
    decoded = PatchDataset.from_folder(tmp_path / "imgs", prepare=False, **kw)
    got = list(_engine_loader(mapped, batch_size=4, num_workers=1, steps=3))
    want = list(_engine_loader(decoded, batch_size=4, num_workers=0, steps=3))
    for (la, ha), (lb, hb) in zip(got, want):
        assert torch.equal(la, lb) and torch.equal(ha, hb)


def _engine_loader(ds, batch_size: int, num_workers: int = 0, *, first_step: int = 0, steps: int) -> DataLoader:
    """A DataLoader built as the training engine builds its own (``Trainer._batches``, one process):
    automatic batching of consecutive indices, default collation (through ``__getitems__``)."""
    return DataLoader(ds, batch_size=batch_size, sampler=range(first_step * batch_size, (first_step + steps) * batch_size),
                      num_workers=num_workers)


def test_loader_batches_are_deterministic_and_resumable() -> None:
    ds = PatchDataset(_images(), crop=32, scale=4, seed=4)
    batches = list(_engine_loader(ds, batch_size=4, num_workers=0, steps=3))
    assert len(batches) == 3
    lr, hr = batches[1]
    assert lr.shape == (4, 3, 8, 8) and hr.shape == (4, 3, 32, 32)
    for b in range(4):
        assert torch.equal(hr[b], ds[4 + b][1]) and torch.equal(lr[b], ds[4 + b][0])
    resumed = list(_engine_loader(ds, batch_size=4, first_step=2, steps=1))
    assert torch.equal(resumed[0][1], batches[2][1])


@pytest.mark.slow
def test_loader_with_a_worker_gives_the_same_batches() -> None:
    ds = PatchDataset(_images(), crop=32, scale=4, seed=4)
    zero = list(_engine_loader(ds, batch_size=4, num_workers=0, steps=2))
    one = list(_engine_loader(ds, batch_size=4, num_workers=1, steps=2))
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
    from srgan_lib.plumbing.download import DatasetNotFound

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
