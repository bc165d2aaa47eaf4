"""Issue 25 at the command line: ``srgan train`` refuses a random VGG19 and (for colab/paper) toy data before any
work, its exported generator records where it came from, ``srgan info FILE`` prints that, ``srgan evaluate`` shows
it, and a resume with another identity is refused with the reason."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from safetensors.torch import save_file

from srgan_lib.plumbing import cli, provenance, weights
from srgan_lib.plumbing.checkpoint import load_checkpoint, read_weights

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = ["--set", "n_blocks=1", "--set", "channels=8", "--set", "crop=16", "--set", "batch_size=2",
        "--set", "log_every=1", "--set", "num_workers=0", "--device", "cpu", "-q"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, *fragments: str) -> str:
    assert code == cli.EXIT_FAILURE, err
    line = [ln for ln in err.splitlines() if ln.strip()][-1]
    assert line.startswith("srgan ") and ": error: " in line and "Traceback" not in err, err
    for f in fragments:
        assert f in line, (f, line)
    return line


@pytest.fixture
def folder(tmp_path) -> Path:
    data = tmp_path / "photos"
    data.mkdir()
    rng = np.random.default_rng(0)
    for k in range(3):
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(data / f"{k}.png")
    return data


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No network, no cached VGG19, no DIV2K in any data root."""
    from srgan_lib.plumbing import download

    monkeypatch.setattr(download, "is_online", lambda *a, **k: False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setenv("SRGAN_DATA", str(tmp_path / "empty-root"))
    monkeypatch.delenv("SRGAN_TRAIN_DATA", raising=False)
    monkeypatch.setattr("srgan_lib.plumbing.download.repository_datasets", lambda: None)


def test_srgan_vgg54_without_the_pretrained_vgg_fails_before_touching_data(capsys, tmp_path, offline, monkeypatch):
    """The issue: the CLI refused only after DIV2K had been downloaded and prepared."""
    from srgan_lib.plumbing import train_data

    def no_data(*a, **k):
        raise AssertionError("training_images was called before the VGG19 check")

    monkeypatch.setattr(train_data, "training_images", no_data)
    t0 = time.perf_counter()
    code, _, err = run(capsys, "train", "--mode", "srgan", "--preset", "colab", "--out", tmp_path / "run",
                       "--device", "cpu", "-q")
    one_line_error(code, err, "VGG19")
    assert not (tmp_path / "run" / "last.pt").exists()
    assert time.perf_counter() - t0 < 60  # not a download: a generous bound, for the record only


def test_random_vgg_is_refused_unless_allowed(capsys, tmp_path, folder, offline):
    code, _, err = run(capsys, "train", "--mode", "srgan", "--preset", "cpu", "--data", folder, "--out",
                       tmp_path / "run", "--set", "content=vgg22", "--set", "vgg_weights=random", *TINY)
    one_line_error(code, err, "allow_random_vgg=True")
    code, out, err = run(capsys, "train", "--mode", "srgan", "--preset", "cpu", "--data", folder, "--out",
                         tmp_path / "run", "--set", "content=vgg22", "--set", "vgg_weights=random", "--set",
                         "allow_random_vgg=true", "--steps", "1", "--init", "none", "--set", "freeze_upsampling=false",
                         "--set", "freeze_bn=false", "--set", "d_shift=0", *TINY)
    assert code == 0, err
    assert "RANDOM" in out  # the loss label says it
    code, out, err = run(capsys, "info", tmp_path / "run" / "generator.safetensors")
    assert code == 0 and "VGG19 weights: random" in out and "NOTE:" in out and "RANDOM" in out


@pytest.mark.parametrize("preset", ["colab", "paper"])
def test_real_presets_refuse_toy_data_unless_allowed(capsys, tmp_path, offline, preset):
    code, _, err = run(capsys, "train", "--preset", preset, "--out", tmp_path / "run", "--steps", "1", *TINY)
    one_line_error(code, err, f"--preset {preset} refuses", "--allow-toy-data")
    assert not (tmp_path / "run" / "last.pt").exists()
    code, out, err = run(capsys, "train", "--preset", preset, "--out", tmp_path / "run", "--steps", "1",
                         "--allow-toy-data", *TINY)
    assert code == 0, err
    _, meta = read_weights(tmp_path / "run" / "generator.safetensors")
    assert meta["data_toy"] is True and meta["preset"] == preset
    assert provenance.caveats(meta)


def test_cpu_preset_still_trains_on_toy_data_with_a_label(capsys, tmp_path, offline):
    code, out, err = run(capsys, "train", "--preset", "quick", "--out", tmp_path / "run", "--steps", "1", *TINY)
    assert code == 0, err
    assert "toy" in out


def test_train_exports_provenance_info_prints_it_evaluate_shows_it(capsys, tmp_path, folder, offline):
    out_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", "--preset", "quick", "--data", folder, "--out", out_dir, "--steps", "2",
                         "--set", "ema_decay=0.5", *TINY)
    assert code == 0, err
    _, meta = read_weights(out_dir / "generator.safetensors")
    assert meta["data_source"] == "folder:photos" and meta["data_images"] == 3 and meta["preset"] == "quick"
    assert meta["content"] == "mse" and meta["step"] == 2 and meta["device"].startswith("cpu")
    assert load_checkpoint(out_dir / "last.pt")["provenance"]["data_files_sha256"] == meta["data_files_sha256"]
    for target in (out_dir / "generator.safetensors", out_dir / "last.pt"):
        code, out, err = run(capsys, "info", target)
        assert code == 0, err
        assert "training data: folder:photos" in out and "preset: quick" in out and "steps trained: 2" in out
    code, out, _ = run(capsys, "info", "srresnet_x4")  # the shipped file carries its last phase's provenance
    assert "content loss: mse" in out and "training data: T91" in out and "NOTE" not in out
    tensors, meta = read_weights(weights.WEIGHTS_DIR / "srresnet_x4.safetensors")  # a file written before provenance existed
    old_file = tmp_path / "old.safetensors"
    save_file(tensors, old_file, metadata={k: json.dumps(meta[k]) for k in ("model", "scale", "n_blocks", "channels")})
    code, out, _ = run(capsys, "info", old_file)
    assert code == 0 and "content loss: unknown" in out and "NOTE" not in out
    code, out, err = run(capsys, "evaluate", "--weights", out_dir / "generator.safetensors", "--sets", folder,
                         "--flavour", "standard", "--format", "csv")
    assert code == 0, err
    assert "training data: folder:photos" in err and "method,dataset" in out  # csv stays clean on stdout


def test_resume_with_another_identity_is_refused_with_the_reason(capsys, tmp_path, folder, offline):
    out_dir = tmp_path / "run"
    assert run(capsys, "train", "--preset", "quick", "--data", folder, "--out", out_dir, "--steps", "1", *TINY)[0] == 0
    other = tmp_path / "other"
    other.mkdir()
    for k in range(2):
        (other / f"{k}.png").write_bytes((folder / f"{k}.png").read_bytes())
    code, _, err = run(capsys, "train", "--preset", "quick", "--data", other, "--out", out_dir, "--steps", "2", *TINY)
    one_line_error(code, err, "another run", "data_source")
    assert load_checkpoint(out_dir / "last.pt")["step"] == 1  # untouched
