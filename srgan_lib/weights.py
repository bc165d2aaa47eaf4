"""Generator weights: the ones shipped with the package (by name) and any safetensors file (by path).

Weight files are safetensors (no pickle, so no code can run when loading) with the model's config in
their metadata; a file for another architecture or scale is refused with a message that says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .checkpoint import read_weights
from .models import SRResNet

WEIGHTS_DIR = Path(__file__).with_name("weights")
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


def load_generator_weights(model: SRResNet, name_or_path: str | Path) -> dict[str, Any]:
    """Load weights into an existing generator; the file's config must match the model's."""
    path = resolve(name_or_path)
    tensors, meta = read_weights(path)
    for key, want in model.config().items():
        if key in meta and meta[key] != want:
            raise ValueError(f"{path}: weights are for {key}={meta[key]}, the model has {key}={want}")
    missing, unexpected = set(model.state_dict()) - set(tensors), set(tensors) - set(model.state_dict())
    if missing or unexpected:
        raise ValueError(f"{path}: not SRResNet weights of this shape "
                         f"(missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]})")
    try:
        model.load_state_dict(tensors)
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not fit this SRResNet ({exc})") from exc
    return meta


def load_generator(name_or_path: str | Path, device: str | torch.device = "cpu") -> SRResNet:
    """A ready-to-use generator (eval mode) from bundled weights or a safetensors file."""
    path = resolve(name_or_path)
    _, meta = read_weights(path)
    model = SRResNet(scale=int(meta.get("scale", 4)), n_blocks=int(meta.get("n_blocks", 16)),
                     channels=int(meta.get("channels", 64)))
    load_generator_weights(model, path)
    return model.to(device).eval()
