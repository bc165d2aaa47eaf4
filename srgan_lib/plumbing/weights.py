"""Plumbing, not part of the lesson: generator weights, the ones shipped with the package (by name), any safetensors
file or training checkpoint (by path), loaded by the package's one generator loader, :func:`load_generator`.

Weight files are safetensors (no pickle, so no code can run when loading) with the model's config in
their metadata; a file for another architecture or scale is refused with a message that says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .checkpoint import load_checkpoint, read_weights
from ..models import MAX_BLOCKS, MAX_CHANNELS, SRResNet
from .provenance import warn_caveats

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
BUNDLED = {
    # name: (file, one-line description); model cards sit beside the files.
    "srresnet_x4": ("srresnet_x4.safetensors", "SRResNet x4 trained with pixel MSE on this project's CPU"),
    "srgan_mse_x4": ("srgan_mse_x4.safetensors", "SRGAN-MSE x4 (Table 1) trained on this project's CPU"),
}


def available() -> dict[str, str]:
    """Bundled weight names that are present in this installation, with their descriptions."""
    return {n: d for n, (f, d) in BUNDLED.items() if (WEIGHTS_DIR / f).is_file()}


def card(name: str) -> dict[str, Any]:
    """The model card facts of bundled weights (``NAME.json`` beside the file): data, steps, time,
    hardware, measured PSNR/SSIM, the training history and the validation curve."""
    import json

    if name not in BUNDLED:
        raise ValueError(f"unknown bundled weights {name!r}; bundled: {', '.join(BUNDLED)}")
    path = WEIGHTS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no model card for {name!r} in this installation ({path})")
    return json.loads(path.read_text())


def resolve(name_or_path: str | Path) -> Path:
    """A bundled name (``srresnet_x4``) or a path -> the weight file's path."""
    key = str(name_or_path)
    if key in BUNDLED:
        path = WEIGHTS_DIR / BUNDLED[key][0]
        if not path.is_file():
            raise FileNotFoundError(f"bundled weights {key!r} are not in this installation ({path})")
        return path
    path = Path(name_or_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such weight file, and not a bundled name ({', '.join(BUNDLED)})")
    return path


def check_finite(tensors: dict[str, torch.Tensor], path: str | Path) -> None:
    """Refuse weights holding NaN or infinite values (a diverged run): they would give black images."""
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ValueError(f"{path}: {len(bad)} tensor(s) hold NaN or infinite values (first: {bad[0]}); the weights "
                         "are broken (a diverged run?): use an earlier checkpoint or other weights")


def _indices(tensors: dict[str, torch.Tensor], prefix: str) -> list[int]:
    return sorted({int(k.split(".")[1]) for k in tensors if k.startswith(prefix) and k.split(".")[1].isdigit()})


#: Upscaling factors a weight file may have (one x2 sub-pixel block per factor 2; ``srgan train``'s choices).
SCALES = (2, 4, 8)


def generator_config(tensors: dict[str, torch.Tensor], meta: dict[str, Any], path: str | Path) -> dict[str, int]:
    """``{"scale", "n_blocks", "channels"}`` of SRResNet weights, read from the tensors' shapes and checked
    *before* anything is built: against sane bounds (:data:`SCALES`, :data:`~srgan_lib.models.MAX_BLOCKS`,
    :data:`~srgan_lib.models.MAX_CHANNELS`), against the file's metadata, and against every tensor's name, shape
    and kind (floating point where the model holds floats), compared with that SRResNet built on the meta device,
    which allocates nothing. So a damaged or hostile file cannot make a huge model, and integer weights are not
    cast into a flat grey image. Non-finite tensors are refused too (:func:`check_finite`). Errors name ``path``."""
    head = tensors.get("head.0.weight")
    if head is None or head.ndim != 4 or head.shape[1] != 3:
        raise ValueError(f"{path}: not SRResNet weights (no head.0.weight of shape (C, 3, 9, 9)); "
                         "pass weights written by srgan train or bundled ones")
    blocks, ups = _indices(tensors, "blocks."), _indices(tensors, "upsample.")
    if blocks != list(range(len(blocks))) or not ups or ups != list(range(len(ups))):
        raise ValueError(f"{path}: not SRResNet weights (residual blocks {blocks[:5]}, upsampling blocks {ups[:5]})")
    found = {"scale": 2 ** min(len(ups), 64), "n_blocks": len(blocks), "channels": int(head.shape[0])}
    bounds = {"scale": (found["scale"] in SCALES, ", ".join(map(str, SCALES))),
              "n_blocks": (1 <= found["n_blocks"] <= MAX_BLOCKS, f"1..{MAX_BLOCKS}"),
              "channels": (1 <= found["channels"] <= MAX_CHANNELS, f"1..{MAX_CHANNELS}")}
    for key, (ok, valid) in bounds.items():
        if not ok:
            raise ValueError(f"{path}: its tensors describe an SRResNet with {key}={found[key]}, outside {valid}, "
                             "the generators srgan builds; the file is damaged or not srgan weights")
    for key, want in found.items():
        if key not in meta:
            continue
        value = meta[key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{path}: metadata {key}={value!r} is not a whole number; the file is damaged "
                             f"(its tensors are for {key}={want})")
        if value != want:
            raise ValueError(f"{path}: metadata says {key}={value}, but the tensors are for {key}={want}; "
                             "the file is damaged or was edited")
    _check_state(tensors, found, path)
    check_finite(tensors, path)
    return found


def _check_state(tensors: dict[str, torch.Tensor], config: dict[str, int], path: str | Path) -> None:
    """Every tensor's name, shape and kind against the SRResNet ``config`` built on the meta device (no memory)."""
    with torch.device("meta"):
        expected = SRResNet(**config).state_dict()
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    wrong = [k for k in expected if k in tensors and tensors[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        first = (f"{wrong[0]} has shape {tuple(tensors[wrong[0]].shape)}, not {tuple(expected[wrong[0]].shape)}"
                 if wrong else f"missing {missing[:3]}, unexpected {unexpected[:3]}")
        raise ValueError(f"{path}: the tensors do not form that SRResNet ({config}): {first}; the file is damaged "
                         "or not srgan weights")
    for key, want in expected.items():
        if want.is_floating_point() and not tensors[key].is_floating_point():
            raise ValueError(f"{path}: tensor {key} holds {tensors[key].dtype} values, but generator weights are "
                             "floating point; the file was converted or damaged: use the original weights")


def load_generator_weights(model: SRResNet, name_or_path: str | Path) -> dict[str, Any]:
    """Load weights into an existing generator; the file's config must match the model's."""
    path = resolve(name_or_path)
    tensors, meta = read_weights(path)
    found = generator_config(tensors, meta, path)
    for key, want in model.config().items():
        if found[key] != want:
            raise ValueError(f"{path}: weights are for {key}={found[key]}, the model has {key}={want}")
    load_state(model, tensors, path)
    warn_caveats(meta, path)
    return meta


def load_state(model: SRResNet, tensors: dict[str, torch.Tensor], path: str | Path) -> None:
    """``model.load_state_dict(tensors)`` with errors that name ``path``."""
    missing, unexpected = set(model.state_dict()) - set(tensors), set(tensors) - set(model.state_dict())
    if missing or unexpected:
        raise ValueError(f"{path}: not SRResNet weights of this shape "
                         f"(missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]})")
    try:
        model.load_state_dict(tensors)
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not fit this SRResNet ({' '.join(str(exc).split())[:300]})") from exc


#: File endings read as training checkpoints (``torch.save``) rather than safetensors.
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")


def _checkpoint_generator(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The generator's tensors and config (with the run's provenance) of a training checkpoint written by
    ``srgan train``: the one the run validated, i.e. G's moving average when the run keeps one (``generator_ema``),
    else G."""
    state = load_checkpoint(path, map_location="cpu")  # ValueError for pickled code or a corrupt file
    if not isinstance(state, dict) or not isinstance(state.get("generator"), dict) \
            or not isinstance(state.get("config"), dict):
        raise ValueError(f"{path}: not an srgan training checkpoint (no generator/config inside)")
    meta = {k: v for k, v in state["config"].items() if k in ("scale", "n_blocks", "channels")}
    prov = state.get("provenance")
    return _validated_generator(state), {**(prov if isinstance(prov, dict) else {}), **meta}


def _validated_generator(state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A checkpoint's validated generator: the moving average's module (``AveragedModel`` keys ``module.*``, without
    its ``n_averaged`` counter) when there is one, else G's state_dict."""
    ema = state.get("generator_ema")
    if isinstance(ema, dict) and any(k.startswith("module.") for k in ema):
        return {k.removeprefix("module."): v for k, v in ema.items() if k.startswith("module.")}
    return state["generator"]


def checkpoint_generator_state(path: str | Path) -> tuple[dict[str, torch.Tensor], int]:
    """``(state_dict, step)`` of the generator a training checkpoint validated (its moving average when it has one)."""
    state = load_checkpoint(path, map_location="cpu")
    if not isinstance(state, dict) or not isinstance(state.get("generator"), dict):
        raise ValueError(f"{path}: not an srgan training checkpoint (no generator inside)")
    return _validated_generator(state), int(state.get("step", 0))


def read_generator_metadata(name_or_path: str | Path) -> dict[str, Any]:
    """The metadata of generator weights (bundled name, safetensors file or training checkpoint): the config and the
    provenance fields it has (:func:`srgan_lib.plumbing.provenance.read` fills in the missing ones as "unknown")."""
    path = Path(name_or_path)
    if str(name_or_path) not in BUNDLED and path.suffix.lower() in CHECKPOINT_SUFFIXES:
        return _checkpoint_generator(path)[1]
    return read_weights(resolve(name_or_path))[1]


def load_generator(name_or_path: str | Path, device: str | torch.device = "cpu") -> SRResNet:
    """A ready-to-use generator (eval mode) from bundled weights (``srresnet_x4``), a safetensors file,
    or a training checkpoint (``last.pt``, read with ``torch.load(weights_only=True)``, which refuses
    pickled code). The config is checked against the tensors before the model is built
    (:func:`generator_config`); errors name the file and the problem."""
    path = Path(name_or_path)
    if str(name_or_path) not in BUNDLED and path.suffix.lower() in CHECKPOINT_SUFFIXES:
        tensors, meta = _checkpoint_generator(path)
    else:
        path = resolve(name_or_path)
        tensors, meta = read_weights(path)
    model = SRResNet(**generator_config(tensors, meta, path))
    load_state(model, tensors, path)
    warn_caveats(meta, path)  # a toy or random-VGG generator says so wherever it is loaded
    return model.to(device).eval()
