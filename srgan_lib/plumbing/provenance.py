"""Plumbing, not part of the lesson: where a generator came from, recorded in every weight file and checkpoint.

A generator file says what it is: the content loss (section 2.2.1), the VGG19 whose features defined it (the
torchvision weights enum and a SHA-256 of the loaded feature weights, so a random VGG19 cannot pass for the
pretrained one), the VGG factor, the training data (source, image count, a hash of the file list), the weights it
started from, the steps, preset, precision, device and library version. Files written before these fields existed
(the shipped ``srgan_lib/weights/*.safetensors``, older ``last.pt``) read as ``"unknown"``, never as an error.

The functions here work on plain dicts (the safetensors metadata, a checkpoint's ``"provenance"`` entry) and on
objects by their attributes (a VGG extractor, a :class:`~srgan_lib.plumbing.train_data.TrainingImages`), so that the weight
loader, the trainer and the command line share one reading of them.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any, Iterable

import torch

from .. import __version__

UNKNOWN = "unknown"  # what a field reads as in a file written before it existed

#: Fields a run's identity is made of: a resume must agree on each one that both runs know.
IDENTITY_KEYS = ("content", "vgg_weights", "vgg_features_sha256", "vgg_rescale_setting", "data_source",
                 "data_files_sha256", "preset")

#: The provenance fields, in the order ``srgan info`` prints them, with a label each.
FIELDS = {
    "content": "content loss",
    "vgg_weights": "VGG19 weights",
    "vgg_enum": "VGG19 weights enum",
    "vgg_features_sha256": "VGG19 features SHA-256",
    "vgg_rescale_setting": "VGG factor setting",
    "vgg_rescale": "VGG factor in use",
    "data_source": "training data",
    "data_images": "training images",
    "data_files_sha256": "file list SHA-256",
    "data_toy": "toy data",
    "init_generator": "started from",
    "step": "steps trained",
    "preset": "preset",
    "precision": "precision",
    "device": "device",
    "library_version": "srgan-tutorial",
}


class ProvenanceWarning(UserWarning):
    """A generator file says it was trained on toy data or with a random VGG19: not a real result."""


def digest_tensors(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 (hex, first 16 digits) of a state_dict's names, shapes, dtypes and values, in name order."""
    sha = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        sha.update(f"{name}:{tuple(t.shape)}:{t.dtype}\n".encode())
        sha.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return sha.hexdigest()[:16]


def digest_file_list(paths: Iterable[str | Path], folder: str | Path | None = None) -> str:
    """SHA-256 (hex, first 16 digits) of the sorted file names (relative to ``folder``) and their sizes: the same
    images in another place give the same digest; an added, removed or replaced file changes it."""
    base = Path(folder) if folder is not None else None
    lines = []
    for p in paths:
        p = Path(p)
        name = p.relative_to(base).as_posix() if base is not None and p.is_relative_to(base) else p.name
        lines.append(f"{name}\t{p.stat().st_size if p.is_file() else -1}")
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16]


def vgg_facts(extractor: Any | None, content: str) -> dict[str, Any]:
    """The VGG19 of a run: ``vgg_weights`` ("imagenet"/"random"), the torchvision enum and the features' hash.
    ``extractor`` is a :class:`~srgan_lib.vgg.VGGFeatures` (or ``None`` for the MSE content loss: no VGG at all)."""
    if extractor is None or content == "mse":
        return {"vgg_weights": "none (pixel MSE)", "vgg_enum": "none", "vgg_features_sha256": "none"}
    from_enum = "none (random weights, seeded)" if extractor.is_random else "VGG19_Weights.IMAGENET1K_V1"
    return {"vgg_weights": extractor.weights, "vgg_enum": from_enum,
            "vgg_features_sha256": digest_tensors(extractor.features.state_dict())}


def data_facts(images: Any) -> dict[str, Any]:
    """The training data of a run from a :class:`~srgan_lib.plumbing.train_data.TrainingImages`: its source (``DIV2K-train``,
    ``folder:NAME`` or ``toy: bundled photographs``), image count, file-list hash and whether it is a toy."""
    folder = images.folder
    if images.toy:
        source = "toy: the bundled photographs"
    elif folder is not None and folder.name == "DIV2K-train":
        source = "DIV2K-train"
    else:
        source = f"folder:{folder.name}" if folder is not None else "folder"
    return {"data_source": source, "data_images": len(images.paths), "data_toy": bool(images.toy),
            "data_files_sha256": digest_file_list(images.paths, folder)}


def version_facts() -> dict[str, Any]:
    """The library version that wrote the file."""
    return {"library_version": __version__}


def read(meta: dict[str, Any]) -> dict[str, Any]:
    """Every provenance field of ``meta`` (a weight file's metadata or a checkpoint's ``provenance``), with
    :data:`UNKNOWN` for those it lacks (files written before the field existed)."""
    return {k: meta.get(k, UNKNOWN) for k in FIELDS}


def is_toy(meta: dict[str, Any]) -> bool:
    """True when ``meta`` says the generator was trained on the bundled toy photographs."""
    return meta.get("data_toy") is True or str(meta.get("data_source", "")).startswith("toy")


def is_random_vgg(meta: dict[str, Any]) -> bool:
    """True when ``meta`` says the content loss used a VGG19 with random weights."""
    return meta.get("vgg_weights") == "random"


def caveats(meta: dict[str, Any]) -> list[str]:
    """One line per reason not to read a generator as a real result (toy data, random VGG19); empty otherwise."""
    notes = []
    if is_random_vgg(meta):
        notes.append(f"its {meta.get('content', 'VGG')} content loss used a VGG19 with RANDOM weights: not the paper's "
                     "loss, not a real result")
    if is_toy(meta):
        notes.append("it was trained on the bundled toy photographs: a code check, not a trained model")
    return notes


def warn_caveats(meta: dict[str, Any], path: str | Path) -> None:
    """Warn (:class:`ProvenanceWarning`, one line) when ``meta`` says the generator is not a real result."""
    for note in caveats(meta):
        warnings.warn(f"{path}: {note}", ProvenanceWarning, stacklevel=3)


def describe(meta: dict[str, Any]) -> list[str]:
    """``label: value`` lines of every provenance field (``unknown`` where the file predates it), then caveats."""
    facts = read(meta)
    lines = [f"{label}: {facts[key]}" for key, label in FIELDS.items()]
    lines += [f"NOTE: {note}" for note in caveats(meta)]
    return lines


def mismatches(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """``key: saved -> now`` for every identity field (:data:`IDENTITY_KEYS`) known to both and different."""
    return [f"{k} {saved[k]!r} -> {now[k]!r}" for k in IDENTITY_KEYS
            if saved.get(k, UNKNOWN) != UNKNOWN and now.get(k, UNKNOWN) != UNKNOWN and saved[k] != now[k]]
