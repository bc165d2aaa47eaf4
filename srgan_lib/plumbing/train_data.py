"""Plumbing, not part of the lesson: which HR images a run trains on, and where they came from.

The paper trained on 350 thousand ImageNet photographs (section 3.1); this tutorial uses a folder you give, else
DIV2K's 800 training images (found in a data root or downloaded), else the two bundled photographs, and says which
in one line. The patches themselves (section 3.2) are :class:`srgan_lib.data.PatchDataset`'s.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from . import download as dl
from ..data import HR_CROP, SCALE, PatchDataset
from .files import find_images
from .runtime import quick_mode
from .samples import TRAINING_SAMPLES, sample_path


#: Environment variable naming a folder of HR training images (searched recursively).
TRAIN_ENV = "SRGAN_TRAIN_DATA"


class ToyDataWarning(UserWarning):
    """Training falls back to the two bundled photographs: results will be toy-sized."""


class NoTrainingData(RuntimeError):
    """A run that needs real training data found none (:func:`require_training_images`); the message says why."""


@dataclass(frozen=True)
class TrainingImages:
    """The HR training images a run uses, and where they came from (see :func:`training_images`).

    Attributes:
        paths: the image files, sorted.
        source: one line for a reader: which images and why (``print`` it in a notebook).
        toy: True for the bundled samples: enough to run the code, not to train a useful model.
        folder: the folder the images were found in (``None`` for the bundled samples).
    """

    paths: tuple[Path, ...]
    source: str
    toy: bool
    folder: Path | None = None

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def summary(self) -> str:
        """:attr:`source` with the folder named by its last part only (no machine path in a notebook's output)."""
        return self.source.replace(str(self.folder), self.folder.name) if self.folder is not None else self.source

    def patch_dataset(self, crop: int = HR_CROP, scale: int = SCALE, seed: int = 0, **kwargs) -> PatchDataset:
        """A :class:`PatchDataset` of these images (:meth:`PatchDataset.from_files`: large sets such as
        DIV2K are decoded once into a memory-mapped file; keyword arguments as there)."""
        return PatchDataset.from_files(self.paths, crop=crop, scale=scale, seed=seed, **kwargs)


def training_images(
    folder: str | Path | None = None,
    *,
    download: bool | None = None,
    root: str | Path | None = None,
    progress: bool = True,
    timeout: float = 3.0,
) -> TrainingImages:
    """Decide which HR images a run trains on; the first that applies wins.

    1. ``folder`` (searched recursively), else the folder named by ``$SRGAN_TRAIN_DATA``;
    2. DIV2K's 800 training images (the tutorial's stand-in for the paper's 350 thousand ImageNet
       images, section 3.1) when a complete copy is in a data root (:func:`srgan_lib.plumbing.download.find_dataset`);
    3. DIV2K downloaded (3.5 GB zip, size and SHA-256 checked, progress bar, installed atomically
       into ``root``, else ``$SRGAN_DATA``, else ``~/.cache/srgan``) when ``download`` is true, or when
       ``download`` is ``None``, this is not a quick run (``SRGAN_QUICK``, which promises to download
       nothing) and the DIV2K server answers within ``timeout`` seconds
       (:func:`srgan_lib.plumbing.download.is_online`). ``download=False`` never touches the network. A failed
       automatic download warns and falls through; a failed requested one raises;
    4. the bundled samples :data:`srgan_lib.plumbing.samples.TRAINING_SAMPLES` (two photographs), with a :class:`ToyDataWarning`
       and ``toy=True``: the code runs, but a model trained on two pictures is a toy.

    Args:
        folder: a folder of HR training images, e.g. your own DIV2K copy.
        download: see step 3.
        root: the data root to search and download into (e.g. a Google Drive folder on Colab, so the
            download survives a recycled runtime); default :func:`srgan_lib.plumbing.download.data_roots`.
        progress: progress bar while downloading.
        timeout: seconds the online probe may take.

    Raises:
        FileNotFoundError: ``folder`` (or ``$SRGAN_TRAIN_DATA``) is not a folder or holds no images.
        srgan_lib.plumbing.download.DownloadError: ``download=True`` and the download failed.
    """
    origin = "given"
    if folder is None and os.environ.get(TRAIN_ENV, "").strip():
        folder, origin = os.environ[TRAIN_ENV].strip(), f"${TRAIN_ENV}"
    if folder is not None:
        folder = Path(folder).expanduser()
        paths = find_images(folder)
        return TrainingImages(tuple(paths), f"{len(paths)} training images from {folder} ({origin})", False, folder)
    div2k, why = None, "download=False"
    try:
        div2k = dl.find_dataset("DIV2K-train", root)
    except dl.DatasetNotFound:
        if download is None and quick_mode():
            online, why = False, "a quick run (SRGAN_QUICK=1) downloads nothing"
        elif download is None:
            online = dl.is_online(dl.REGISTRY["DIV2K-train"].files[0].urls[0], timeout)
            why = "offline" if not online else why
        else:
            online = download
        if online:
            try:
                div2k = dl.download("DIV2K-train", root, progress=progress)
            except dl.DownloadError as exc:
                if download:
                    raise
                why = f"the DIV2K download failed: {str(exc).splitlines()[0]}"
    if div2k is not None:
        paths = find_images(div2k)
        return TrainingImages(tuple(paths), f"DIV2K training set: {len(paths)} 2K images from {div2k}", False, div2k)
    paths = tuple(sample_path(n) for n in TRAINING_SAMPLES)
    note = (f"no training folder given and no DIV2K ({why}): training on the {len(paths)} bundled photographs "
            f"({', '.join(TRAINING_SAMPLES)}). Results will be toy-sized; pass a folder, set ${TRAIN_ENV}, "
            "or allow the DIV2K download (download=True).")
    warnings.warn(note, ToyDataWarning, stacklevel=2)
    return TrainingImages(paths, "toy: " + note, True, None)


def require_training_images(
    folder: str | Path | None = None,
    *,
    refuse_toy: bool = False,
    run: str = "this run",
    download: bool | None = None,
    root: str | Path | None = None,
    progress: bool = True,
) -> TrainingImages:
    """:func:`training_images` for a run that must not silently train on toy data.

    The same choice of images, with two refusals that say what to do, in one line each:

    - a requested DIV2K download (``download=True``) that fails raises :class:`NoTrainingData` (a finished
      download is kept, so running again resumes);
    - with ``refuse_toy`` (a run meant to train a real model: the ``colab`` and ``paper`` presets, a GPU run),
      the fallback to the two bundled photographs raises :class:`NoTrainingData` instead of training a toy.

    The :class:`ToyDataWarning` is not issued: ``summary`` says the same and the caller prints it.

    Args:
        folder, download, root, progress: as for :func:`training_images`.
        refuse_toy: raise instead of falling back to the bundled photographs.
        run: how the refusal names the run, e.g. ``"the colab preset"`` or ``"the GPU run"``.

    Raises:
        NoTrainingData: the download failed, or ``refuse_toy`` and only the bundled photographs were found.
        FileNotFoundError: ``folder`` (or ``$SRGAN_TRAIN_DATA``) is not a folder or holds no images.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ToyDataWarning)  # the summary says it; the caller prints that
            images = training_images(folder, download=download, root=root, progress=progress)
    except dl.DownloadError as err:
        raise NoTrainingData(f"STOP: the DIV2K download failed ({str(err).splitlines()[0]}). Run again (a "
                             "finished download is kept), or give TRAIN_DATA a folder of photographs.") from None
    if images.toy and refuse_toy:
        found = images.summary.split(": ", 1)[-1][:160]
        raise NoTrainingData(f"STOP: {run} trains a real model, and no training data was found ({found}...). "
                             "Check that the runtime is online (DIV2K is downloaded then) or give TRAIN_DATA "
                             "a folder of photographs.")
    return images
