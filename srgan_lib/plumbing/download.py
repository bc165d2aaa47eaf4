"""Plumbing, not part of the lesson: downloads of the training and evaluation datasets into a cache folder, verified
and atomic.

The paper trains on ImageNet and tests on Set5, Set14 and BSD100 (section 3.1). This tutorial trains
on freely usable images (DIV2K, Kodak24) and evaluates on the same three test sets, plus Urban100 and
DIV2K validation. :data:`REGISTRY` says where each comes from and how it is checked.

Where the data goes (the *root*): the ``root`` argument, else the ``SRGAN_DATA`` environment variable,
else ``~/.cache/srgan``. Dataset ``NAME`` lives in ``<root>/NAME/`` as a flat folder of its HR images
(plus ``.srgan-source.json``, recording where it came from). A folder you fill by hand works the
same way, so ``SRGAN_DATA=../shared/datasets`` uses the maintainers' copies.

Where data is *found* (:func:`find_dataset`, used by :func:`srgan_lib.data.load_eval_set` and
:func:`srgan_lib.plumbing.train_data.training_images`): the ``root`` argument alone if given, else every folder of
:func:`data_roots` in turn: ``$SRGAN_DATA``, ``~/.cache/srgan`` (where downloads go by default), and
``../shared/datasets`` beside a repository checkout (the maintainers' copies, where present).

What a download does, so that an interruption never leaves half a dataset:

1. stream each file into a fresh temporary folder ``<root>/.srgan-tmp-*`` (a progress bar shows it),
   resuming with an HTTP ``Range`` request after a dropped connection and retrying with
   exponential backoff after connection errors and 5xx answers (4xx answers fail at once);
2. verify each file: its size and SHA-256 (or MD5) where published, otherwise nothing yet;
3. extract archives inside the temporary folder (zip or tar, refusing paths that leave it);
4. verify the images: the expected file names, the image count, every header readable (and, for
   Kodak24, every size);
5. ``os.replace`` the verified folder to ``<root>/NAME`` (one rename on the same file system), then
   delete the temporary folder. On any failure, including Ctrl-C, the temporary folder is deleted and
   ``<root>/NAME`` is untouched.

Resuming works within one call (dropped connections); a failed call leaves nothing to resume from.

Offline: :func:`find_dataset` (used by :func:`srgan_lib.data.load_eval_set`) raises
:class:`DatasetNotFound` with what to download, from where, and where to put it; and any folder of
images can be passed to ``load_eval_set`` or ``PatchDataset.from_folder`` directly.

Command line: ``python -m srgan_lib.plumbing.download Set5 Set14 BSD100 [--root DIR]`` (``--list`` shows all).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import shutil
import socket
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Sequence

from .files import IMAGE_SUFFIXES, describe_write_error, make_folder

#: Environment variable naming the data root.
DATA_ENV = "SRGAN_DATA"
#: Name of the provenance file written into each downloaded dataset folder.
SOURCE_FILE = ".srgan-source.json"
_TMP_PREFIX = ".srgan-tmp-"
_USER_AGENT = "srgan-tutorial/0.1 (+python urllib)"
_CHUNK = 1 << 20
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class DownloadError(RuntimeError):
    """A download, its verification or its extraction failed; nothing was installed."""


class DatasetNotFound(FileNotFoundError):
    """A named dataset is not in the data root; the message says how to get it."""


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch: mirrors tried in order, and what is known to verify it."""

    urls: tuple[str, ...]
    filename: str
    size: int | None = None  # bytes, where published
    sha256: str | None = None
    md5: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """How to get and check one dataset.

    ``kind`` is ``"archive"`` (one zip/tar holding the images, in ``subdir`` if given) or ``"files"``
    (the images themselves). ``expected_files`` must all be present; ``image_count`` is the exact
    number of images; ``image_sizes`` optionally maps file name -> ``(width, height)``.
    """

    name: str
    kind: str
    files: tuple[RemoteFile, ...]
    image_count: int
    subdir: str | None = None
    expected_files: tuple[str, ...] = ()
    image_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    description: str = ""
    homepage: str = ""
    licence: str = ""
    checksums: str = ""  # where the checksums come from, or why there are none

    @property
    def approx_bytes(self) -> int | None:
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(sizes)  # type: ignore[arg-type]


_DIV2K = "https://data.vision.ee.ethz.ch/cvl/DIV2K/"
_HF = "https://huggingface.co/datasets/eugenesiow/{0}/resolve/main/data/{0}_HR.tar.gz"
_KODAK = ("https://r0k.us/graphics/kodak/kodak/kodim{:02d}.png", "http://r0k.us/graphics/kodak/kodak/kodim{:02d}.png")
_KODAK_PORTRAIT = {4, 9, 10, 17, 18, 19}  # 512 x 768; the other 18 are 768 x 512
# The 100 BSDS300 test images (= BSD100 / B100), by BSDS image id.
_BSD100_IDS = (
    "101085 101087 102061 103070 105025 106024 108005 108070 108082 109053 119082 12084 123074 126007 "
    "130026 134035 14037 143090 145086 147091 148026 148089 156065 157055 159008 160068 16077 163085 "
    "167062 167083 170057 175032 175043 182053 189080 19021 196073 197017 208001 210088 21077 216081 "
    "219090 220075 223061 227092 229036 236037 24077 241004 241048 253027 253055 260058 271035 285079 "
    "291000 295087 296007 296059 299086 300091 302008 304034 304074 306005 3096 33039 351093 361010 "
    "37073 376043 38082 38092 385039 41033 41069 42012 42049 43074 45096 54082 55073 58060 62096 "
    "65033 66053 69015 69020 69040 76053 78004 8023 85048 86000 86016 86068 87046 89072 97033"
).split()

#: Every dataset the tutorial can fetch, by canonical name.
REGISTRY: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="DIV2K-train", kind="archive", subdir="DIV2K_train_HR", image_count=800,
            files=(RemoteFile((_DIV2K + "DIV2K_train_HR.zip", _DIV2K.replace("https", "http") + "DIV2K_train_HR.zip"),
                              "DIV2K_train_HR.zip", size=3_530_603_713,
                              sha256="9d0b9c463f6e35b6c62cc6a930ee2224f670b34c1df841a57670f9acf0f6c335",
                              md5="bdc2d9338d4e574fe81bf7d158758658"),),
            expected_files=tuple(f"{i:04d}.png" for i in range(1, 801)),
            description="DIV2K training HR: 800 2K-resolution photographs (NTIRE 2017)",
            homepage="https://data.vision.ee.ethz.ch/cvl/DIV2K/",
            licence="academic research only (see the DIV2K page)",
            checksums="size and SHA-256 from TensorFlow Datasets' url_checksums/div2k.txt; the same MD5 is "
                      "used by several independent loaders",
        ),
        DatasetSpec(
            name="DIV2K-valid", kind="archive", subdir="DIV2K_valid_HR", image_count=100,
            files=(RemoteFile((_DIV2K + "DIV2K_valid_HR.zip", _DIV2K.replace("https", "http") + "DIV2K_valid_HR.zip"),
                              "DIV2K_valid_HR.zip", size=448_993_893,
                              sha256="20dd31fd84d777bc1cf5d6b7654a3f569c0aec74458ae094122ad1d0489900fc",
                              md5="9fcdda83005c5e5997799b69f955ff88"),),
            expected_files=tuple(f"{i:04d}.png" for i in range(801, 901)),
            description="DIV2K validation HR: 100 2K-resolution photographs",
            homepage="https://data.vision.ee.ethz.ch/cvl/DIV2K/",
            licence="academic research only (see the DIV2K page)",
            checksums="size and SHA-256 from TensorFlow Datasets' url_checksums/div2k.txt",
        ),
        DatasetSpec(
            name="Set5", kind="archive", subdir="Set5_HR", image_count=5,
            files=(RemoteFile((_HF.format("Set5"),), "Set5_HR.tar.gz"),),
            expected_files=("baby.png", "bird.png", "butterfly.png", "head.png", "woman.png"),
            description="Set5 HR (Bevilacqua et al., BMVC 2012), as packaged on Hugging Face (eugenesiow/Set5)",
            homepage="https://huggingface.co/datasets/eugenesiow/Set5",
            licence="research benchmark; no licence statement found",
            checksums="unknown: no published checksum of this archive; verified by file names and count",
        ),
        DatasetSpec(
            name="Set14", kind="archive", subdir="Set14_HR", image_count=14,
            files=(RemoteFile((_HF.format("Set14"),), "Set14_HR.tar.gz"),),
            description="Set14 HR (Zeyde et al., 2010), as packaged on Hugging Face (eugenesiow/Set14)",
            homepage="https://huggingface.co/datasets/eugenesiow/Set14",
            licence="research benchmark; no licence statement found",
            checksums="unknown: no published checksum of this archive; verified by image count only "
                      "(the file names in this package are not documented)",
        ),
        DatasetSpec(
            name="BSD100", kind="archive", subdir="BSD100_HR", image_count=100,
            files=(RemoteFile((_HF.format("BSD100"),), "BSD100_HR.tar.gz"),),
            expected_files=tuple(f"{i}.png" for i in _BSD100_IDS),
            description="BSD100 (the BSDS300 test images), as packaged on Hugging Face (eugenesiow/BSD100)",
            homepage="https://huggingface.co/datasets/eugenesiow/BSD100",
            licence="Berkeley Segmentation Dataset: non-commercial research and education",
            checksums="unknown: no published checksum of this archive; verified by file names and count",
        ),
        DatasetSpec(
            name="Urban100", kind="archive", subdir="Urban100_HR", image_count=100,
            files=(RemoteFile((_HF.format("Urban100"),), "Urban100_HR.tar.gz",
                              md5="65d9d84a34b72c6f7ca1e26a12df1e4c"),),
            expected_files=tuple(f"img_{i:03d}.png" for i in range(1, 101)),
            description="Urban100 HR (Huang et al., CVPR 2015), as packaged on Hugging Face (eugenesiow/Urban100)",
            homepage="https://huggingface.co/datasets/eugenesiow/Urban100",
            licence="research benchmark; no licence statement found",
            checksums="MD5 as used by deepinv's examples with torchvision's download_and_extract_archive; "
                      "SHA-256 unknown",
        ),
        DatasetSpec(
            name="Kodak24", kind="files", image_count=24,
            files=tuple(RemoteFile(tuple(u.format(i) for u in _KODAK), f"kodim{i:02d}.png") for i in range(1, 25)),
            expected_files=tuple(f"kodim{i:02d}.png" for i in range(1, 25)),
            image_sizes={f"kodim{i:02d}.png": (512, 768) if i in _KODAK_PORTRAIT else (768, 512)
                         for i in range(1, 25)},
            description="Kodak Lossless True Color Image Suite (PhotoCD PCD0992), 24 images",
            homepage="http://r0k.us/graphics/kodak/",
            licence="released by the Eastman Kodak Company for unrestricted usage",
            checksums="unknown: no published checksums of Rich Franzen's PNGs; verified by file names "
                      "and every image's size (768x512, or 512x768 for kodim04/09/10/17/18/19)",
        ),
    )
}

_ALIASES = {"b100": "BSD100", "bsds100": "BSD100", "kodak": "Kodak24", "div2k": "DIV2K-train",
            "div2kval": "DIV2K-valid", "div2kvalidation": "DIV2K-valid"}


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def dataset_names() -> list[str]:
    """Canonical names of the datasets in :data:`REGISTRY`."""
    return list(REGISTRY)


def is_known(name: str) -> bool:
    """True when ``name`` (any case, ``-``/``_`` ignored, aliases such as ``B100``) is in the registry."""
    key = _key(name)
    return key in _ALIASES or any(_key(n) == key for n in REGISTRY)


def resolve_name(name: str) -> str:
    """The canonical registry name for ``name``; ``ValueError`` listing the names otherwise."""
    key = _key(name)
    if key in _ALIASES:
        return _ALIASES[key]
    for canonical in REGISTRY:
        if _key(canonical) == key:
            return canonical
    raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(REGISTRY)}")


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``root`` if given, else ``$SRGAN_DATA``, else ``~/.cache/srgan``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path("~/.cache/srgan").expanduser()


def dataset_path(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Where dataset ``name`` is (or would be put): ``<root>/<canonical name>``."""
    return data_root(root) / resolve_name(name)


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))


def is_downloaded(name: str, root: str | os.PathLike[str] | None = None) -> bool:
    """True when ``<root>/<name>`` exists and holds at least the expected number of images."""
    spec = REGISTRY[resolve_name(name)]
    folder = dataset_path(name, root)
    return folder.is_dir() and len(_image_files(folder)) >= spec.image_count


def offline_instructions(name: str, root: str | os.PathLike[str] | None = None) -> str:
    """What to download, from where, and where to put it, for dataset ``name``."""
    spec = REGISTRY[resolve_name(name)]
    target = dataset_path(name, root)
    lines = [f"To get {spec.name} ({spec.description}):",
             f"  1. on a machine with internet access: python -m srgan_lib.plumbing.download {spec.name}"
             f" (it goes to ${DATA_ENV} or ~/.cache/srgan; --root DIR to choose), or",
             "  2. by hand: download"]
    for f in spec.files[:3]:
        check = f"  sha256 {f.sha256}" if f.sha256 else (f"  md5 {f.md5}" if f.md5 else "")
        lines.append(f"       {f.urls[0]}{check}")
    if len(spec.files) > 3:
        lines.append(f"       ... ({len(spec.files)} files: {spec.files[0].filename} ... {spec.files[-1].filename})")
    inner = f" the {spec.subdir}/ folder of the archive," if spec.subdir else ""
    lines.append(f"     and put{inner} its {spec.image_count} images directly in {target}/, or")
    lines.append(f"  3. pass any folder of HR images instead, e.g. load_eval_set('/path/to/{spec.name}'), "
                 f"or set {DATA_ENV} to a folder that holds {spec.name}/.")
    return "\n".join(lines)


def manual_hint(name: str, root: str | os.PathLike[str] | None = None) -> str:
    """One line of advice after a failed download of ``name`` (the command line's; the full steps are
    :func:`offline_instructions`)."""
    spec = REGISTRY[resolve_name(name)]
    return (f"try again later, or put its {spec.image_count} images in {dataset_path(name, root)}/ by hand "
            f"(python -m srgan_lib.plumbing.download {spec.name} lists the steps when it fails)")


#: The repository checkout this module sits in (meaningful only when ``pyproject.toml`` is beside it).
_REPO = Path(__file__).resolve().parents[2]


def repository_datasets() -> Path | None:
    """``../shared/datasets`` beside this repository checkout (the maintainers' benchmark copies), or
    ``None`` where it is absent (a user's clone, Colab, a pip install)."""
    shared = _REPO.parent / "shared" / "datasets"
    return shared if (_REPO / "pyproject.toml").is_file() and shared.is_dir() else None


def data_roots(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders searched for named datasets, in order (see :func:`find_dataset`).

    ``root`` alone when given; otherwise ``$SRGAN_DATA`` (when set), ``~/.cache/srgan`` (where
    :func:`download` puts datasets by default), and ``../shared/datasets`` beside the repository
    (the maintainers' benchmark copies; only when this is a repository checkout and the folder exists).
    """
    if root is not None:
        return [Path(root).expanduser()]
    roots = []
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        roots.append(Path(env).expanduser())
    roots.append(Path("~/.cache/srgan").expanduser())
    shared = repository_datasets()
    if shared is not None:
        roots.append(shared)
    unique: list[Path] = []
    for r in roots:
        if all(r.resolve() != u.resolve() for u in unique):
            unique.append(r)
    return unique


def find_dataset(name: str, root: str | os.PathLike[str] | None = None, *, download: bool = False,
                 progress: bool = True) -> Path:
    """The folder of dataset ``name``: the first complete copy in :func:`data_roots`, else downloaded.

    Args:
        name: a registry name (any case; aliases such as ``B100``).
        root: look only here (and download here); default: every folder of :func:`data_roots`,
            downloading into :func:`data_root` (``$SRGAN_DATA``, else ``~/.cache/srgan``).
        download: fetch the dataset (verified, atomic: :func:`download`) when no complete copy exists.
        progress: progress bar while downloading.

    Raises:
        DatasetNotFound: no complete copy and ``download`` is false; the message lists the folders
            searched and says what to download, from where and where to put it.
        DownloadError: the download failed (nothing was installed).
    """
    canonical = resolve_name(name)
    searched = data_roots(root)
    for base in searched:
        if is_downloaded(canonical, base):
            return base / canonical
    if download:
        from . import download as this_module  # the parameter shadows the function of the same name

        return this_module.download(canonical, root, progress=progress)
    spec = REGISTRY[canonical]
    partial = [b / canonical for b in searched if (b / canonical).is_dir()]
    if partial:
        found = len(_image_files(partial[0]))
        head = f"{partial[0]}: incomplete {canonical} ({found} of {spec.image_count} images)."
    else:
        head = f"{canonical} not found: looked in {', '.join(str(b / canonical) for b in searched)}."
    raise DatasetNotFound(head + "\n" + offline_instructions(canonical, root))


def is_online(url: str = "https://data.vision.ee.ethz.ch/", timeout: float = 3.0) -> bool:
    """True when a TCP connection to ``url``'s host opens within ``timeout`` seconds.

    The probe (name lookup included) runs in a daemon thread and is abandoned after ``timeout``, so an
    offline machine with a slow or broken name server never hangs the caller. No HTTP request is made.
    """
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((parts.hostname, port), timeout=timeout).close()
            result.append(True)
        except (OSError, ValueError):
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


# -- fetching -------------------------------------------------------------------------------------


class _Retryable(Exception):
    """A failure worth another attempt (connection trouble, 5xx, short read)."""


def _open(url: str, offset: int, timeout: float):
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _content_range_start(value: str | None) -> int | None:
    """``bytes 100-199/200`` -> 100."""
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None


def _fetch_once(url: str, dest: Path, timeout: float, progress: bool, expected_size: int | None) -> None:
    """One HTTP attempt, appending to ``dest`` from where it stops (``Range``)."""
    from tqdm.auto import tqdm

    have = dest.stat().st_size if dest.exists() else 0
    if expected_size is not None and have == expected_size:
        return
    try:
        resp = _open(url, have, timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # range past the end: start again from zero
            dest.unlink()
            raise _Retryable("HTTP 416 for a resumed download") from exc
        if exc.code in _RETRY_STATUS:
            raise _Retryable(f"HTTP {exc.code} {exc.reason}") from exc
        raise DownloadError(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        reason = getattr(exc.reason, "strerror", None) or exc.reason  # "Connection refused", not "[Errno 111] ..."
        if isinstance(exc.reason, socket.gaierror):  # no DNS: offline; retrying will not help
            raise DownloadError(f"cannot resolve the host ({reason}); are you offline?") from exc
        raise _Retryable(str(reason)) from exc
    except (ConnectionError, TimeoutError, socket.timeout, http.client.HTTPException) as exc:
        raise _Retryable(f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}") from exc
    with resp:
        status = getattr(resp, "status", 200)
        if have and status == 206 and _content_range_start(resp.headers.get("Content-Range")) == have:
            mode = "ab"
        else:  # a full answer (the server ignored Range, or this is the first attempt)
            have, mode = 0, "wb"
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length is not None and length.isdigit() else expected_size
        got = 0
        bar = tqdm(total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=dest.name, disable=not progress, leave=False)
        try:
            with open(dest, mode) as fh:
                while True:
                    try:
                        chunk = resp.read(_CHUNK)
                    except (ConnectionError, TimeoutError, socket.timeout, http.client.HTTPException) as exc:
                        raise _Retryable(f"connection lost after {have + got} bytes "
                                         f"({type(exc).__name__}: {exc})") from exc
                    if not chunk:
                        break
                    fh.write(chunk)
                    got += len(chunk)
                    bar.update(len(chunk))
        finally:
            bar.close()
    if total is not None and have + got < total:
        raise _Retryable(f"connection closed after {have + got} of {total} bytes")


def _fetch(file: RemoteFile, dest: Path, *, retries: int, backoff: float, timeout: float,
           progress: bool) -> None:
    """Fetch ``file`` into ``dest``: each mirror in turn, each with up to ``retries`` retries after
    retryable failures (waiting ``backoff * 2**k`` seconds, at most 60), resuming where it stopped. The error
    names each URL once, with its number of attempts and the last problem."""
    tried: list[str] = []
    for url in file.urls:
        if dest.exists():
            dest.unlink()  # never splice bytes from two mirrors
        attempts, last = 0, ""
        for attempt in range(retries + 1):
            attempts += 1
            try:
                _fetch_once(url, dest, timeout, progress, file.size)
                return
            except _Retryable as exc:
                last = str(exc)
                if attempt < retries:
                    time.sleep(min(backoff * 2**attempt, 60.0))
            except DownloadError as exc:  # not worth retrying (HTTP 404, no DNS)
                last = str(exc)
                break
        tried.append(f"{url} ({attempts} attempt{'s' * (attempts > 1)}; last: {last})")
    raise DownloadError(f"could not download {file.filename} from {'; '.join(tried)}")


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify_file(path: Path, file: RemoteFile) -> dict[str, str]:
    """Check size and checksums where known; returns the digests computed (for the provenance file)."""
    size = path.stat().st_size
    if file.size is not None and size != file.size:
        raise DownloadError(f"{file.filename}: {size} bytes downloaded, {file.size} expected "
                            f"(incomplete download, or the file changed upstream)")
    digests = {"sha256": _digest(path, "sha256")}
    if file.sha256 and digests["sha256"] != file.sha256.lower():
        raise DownloadError(f"{file.filename}: SHA-256 mismatch: got {digests['sha256']}, expected {file.sha256} "
                            f"(corrupt download, or the file changed upstream)")
    if file.md5:
        digests["md5"] = _digest(path, "md5")
        if digests["md5"] != file.md5.lower():
            raise DownloadError(f"{file.filename}: MD5 mismatch: got {digests['md5']}, expected {file.md5} "
                                f"(corrupt download, or the file changed upstream)")
    return digests


def _safe_member(name: str, archive: Path) -> None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise DownloadError(f"{archive.name}: refusing archive member {name!r} (it would land outside the folder)")


def _extract(archive: Path, dest: Path) -> None:
    """Extract a zip or tar archive into ``dest``, refusing members that would leave it."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _safe_member(info.filename, archive)
                zf.extractall(dest)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members = tf.getmembers()
                for m in members:
                    _safe_member(m.name, archive)
                    if not (m.isfile() or m.isdir()):
                        raise DownloadError(f"{archive.name}: refusing archive member {m.name!r} (not a plain file)")
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(dest, members=members, filter="data")
                else:  # pragma: no cover - Python < 3.11.4; members were checked above
                    tf.extractall(dest, members=members)
        else:
            raise DownloadError(f"{archive.name}: not a zip or tar archive (corrupt or incomplete download?)")
    except DownloadError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # the disk (full, read-only), not the archive: download_spec says so
        raise DownloadError(f"{archive.name}: corrupt archive ({type(exc).__name__}: {exc})") from exc


def _locate_images(tree: Path, spec: DatasetSpec) -> Path:
    """The folder of the extracted tree that holds the dataset's images."""
    if spec.subdir and (tree / spec.subdir).is_dir():
        return tree / spec.subdir
    folders = {p.parent for p in tree.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}
    if len(folders) == 1:
        return folders.pop()
    if not folders:
        raise DownloadError(f"{spec.name}: the archive holds no image files")
    want = f" (expected {spec.subdir}/)" if spec.subdir else ""
    found = ", ".join(sorted(str(f.relative_to(tree)) for f in folders)[:5])
    raise DownloadError(f"{spec.name}: images in several folders of the archive{want}: {found}")


def _verify_images(folder: Path, spec: DatasetSpec) -> None:
    """Expected names present, exact image count, every header readable (and sizes where known)."""
    from PIL import Image  # headers only; no torch import needed to download

    files = _image_files(folder)
    names = {p.name for p in files}
    missing = [n for n in spec.expected_files if n not in names]
    if missing:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise DownloadError(f"{spec.name}: {len(missing)} expected file(s) missing: {shown}")
    if len(files) != spec.image_count:
        raise DownloadError(f"{spec.name}: expected {spec.image_count} images, found {len(files)} in {folder.name}/")
    for p in files:
        try:
            with Image.open(p) as im:
                w, h = im.size
        except Exception as exc:  # noqa: BLE001 - any failure to parse the header
            raise DownloadError(f"{spec.name}: unreadable image {p.name} ({type(exc).__name__}: {exc})") from exc
        want = spec.image_sizes.get(p.name)
        if want is not None and (w, h) != tuple(want):
            raise DownloadError(f"{spec.name}: {p.name} is {w}x{h}, expected {want[0]}x{want[1]}")


def download_spec(spec: DatasetSpec, root: str | os.PathLike[str] | None = None, *, force: bool = False,
                  progress: bool = True, retries: int = 4, backoff: float = 1.0, timeout: float = 60.0) -> Path:
    """Download, verify and install ``spec`` as ``<root>/<spec.name>`` (see the module docstring).

    Args:
        spec: what to fetch (normally from :data:`REGISTRY`; tests pass their own).
        root: data root (default ``$SRGAN_DATA``, else ``~/.cache/srgan``); created if needed.
        force: replace an existing folder (the old one is kept until the new one is in place).
        progress: show a progress bar per file.
        retries: extra attempts per mirror after connection errors, 5xx answers or short reads.
        backoff: seconds before the first retry; doubled each time (at most 60).
        timeout: seconds without data before a connection counts as lost.

    Returns:
        The dataset folder.

    Raises:
        DownloadError: a file could not be fetched (the message names each URL once, with its attempts), failed
            verification, the archive is corrupt or lacks files, or the disk is full. Nothing is left behind: no
            temporary files, no partial dataset.
        OSError: ``root`` cannot be a folder (a file in the way, a read-only file system), in one line.
    """
    base = data_root(root)
    target = base / spec.name
    if target.is_dir() and not force:
        found = len(_image_files(target))
        if found >= spec.image_count:
            return target
        raise DownloadError(f"{target}: exists but holds {found} of {spec.image_count} images; "
                            f"pass force=True to replace it (the old folder is kept until the new one is in place)")
    make_folder(base, f"choose another data root (--root DIR, or {DATA_ENV})")
    try:
        return _install(spec, base, target, retries=retries, backoff=backoff, timeout=timeout, progress=progress)
    except OSError as exc:  # a full disk, a read-only root: the folder's problem, not the download's
        raise DownloadError(f"{base}: could not write the download ({describe_write_error(exc)}); nothing was "
                            f"installed") from exc


def _install(spec: DatasetSpec, base: Path, target: Path, **fetch) -> Path:
    """:func:`download_spec`'s work: fetch, verify and extract in a temporary folder of ``base``, then rename it
    into ``target`` (the old one kept until the new one is in place)."""
    tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{spec.name}-", dir=base))
    try:
        fetched = tmp / "download"
        fetched.mkdir()
        sources = []
        for file in spec.files:
            path = fetched / file.filename
            _fetch(file, path, **fetch)
            digests = _verify_file(path, file)
            sources.append({"file": file.filename, "urls": list(file.urls), "bytes": path.stat().st_size, **digests})
        if spec.kind == "archive":
            tree = tmp / "extracted"
            tree.mkdir()
            for file in spec.files:
                _extract(fetched / file.filename, tree)
            folder = _locate_images(tree, spec)
        elif spec.kind == "files":
            folder = fetched
        else:
            raise ValueError(f"{spec.name}: unknown dataset kind {spec.kind!r}")
        _verify_images(folder, spec)
        record = {"dataset": spec.name, "description": spec.description, "homepage": spec.homepage,
                  "licence": spec.licence, "checksums": spec.checksums, "sources": sources,
                  "downloaded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        (folder / SOURCE_FILE).write_text(json.dumps(record, indent=1) + "\n")
        old = None
        if target.exists():
            old = tmp / "previous"
            os.replace(target, old)
        try:
            os.replace(folder, target)
        except BaseException:
            if old is not None and not target.exists():
                os.replace(old, target)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def download(name: str, root: str | os.PathLike[str] | None = None, **kwargs) -> Path:
    """Download dataset ``name`` (see :data:`REGISTRY`) into ``<root>/<name>``; returns the folder.

    Already present: returned at once (``force=True`` downloads again). Other keyword arguments as
    :func:`download_spec`. A failure raises :class:`DownloadError` whose message also says how to
    install the dataset by hand.
    """
    spec = REGISTRY[resolve_name(name)]
    try:
        return download_spec(spec, root, **kwargs)
    except DownloadError as exc:
        raise DownloadError(f"{exc}\n{offline_instructions(spec.name, root)}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m srgan_lib.plumbing.download NAME... [--root DIR] [--force] [--list]``."""
    ap = argparse.ArgumentParser(prog="python -m srgan_lib.plumbing.download",
                                 description="Download SR datasets into $SRGAN_DATA (default ~/.cache/srgan).",
                                 epilog="example: python -m srgan_lib.plumbing.download Set5 Set14 BSD100")
    ap.add_argument("names", nargs="*", help=f"datasets: {', '.join(REGISTRY)}")
    ap.add_argument("--root", help="data root (default $SRGAN_DATA, else ~/.cache/srgan)")
    ap.add_argument("--force", action="store_true", help="download again even if present")
    ap.add_argument("--list", action="store_true", help="list the datasets and where they would go")
    args = ap.parse_args(argv)
    if args.list or not args.names:
        for spec in REGISTRY.values():
            size = f"{spec.approx_bytes / 1e6:,.0f} MB" if spec.approx_bytes else "size unknown"
            found = [base / spec.name for base in data_roots(args.root) if is_downloaded(spec.name, base)]
            state = "present" if found else "missing"
            where = found[0] if found else dataset_path(spec.name, args.root)
            print(f"{spec.name:12s} {spec.image_count:4d} images  {size:>12s}  {state:8s} {where}")
        return 0
    try:
        for name in args.names:
            print(download(name, args.root, force=args.force))
    except (DownloadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
