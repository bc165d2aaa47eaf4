"""The ``srgan`` command: version, help, subcommand registry, one-line errors without traceback."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

import srgan_lib
from srgan_lib.plumbing import cli


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"srgan {srgan_lib.__version__}"


def test_help_lists_every_command_and_an_example(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: srgan")
    assert "examples:" in out and "srgan --version" in out
    flat = " ".join(out.split())  # argparse wraps long help lines
    for command in cli.COMMANDS:
        assert command.name in out and command.help in flat, command.name


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 0
    assert "usage: srgan" in capsys.readouterr().out


def test_command_names_are_unique():
    names = [c.name for c in cli.COMMANDS]
    assert len(names) == len(set(names))


def test_info(capsys):
    assert cli.main(["info", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert f"srgan-tutorial {srgan_lib.__version__}" in out
    assert "device: cpu" in out


def test_unknown_command_is_one_line_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["no-such-command"])
    assert exit_info.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("srgan: error:") and "no-such-command" in err


def test_bad_option_of_a_subcommand_is_one_line_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["info", "--no-such-option"])
    assert exit_info.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("srgan") and "--no-such-option" in err


def _failing_command(exc: BaseException) -> cli.Command:
    def run(args: argparse.Namespace) -> int:
        raise exc

    return cli.Command("fail", "always fails", lambda parser: None, run)


@pytest.mark.parametrize(
    "exc",
    [
        cli.CommandError("weights.safetensors: not found"),
        ValueError("photo.png: not a readable image\n(second line)"),
        FileNotFoundError("data/missing: not a folder"),
        RuntimeError("device 'cuda' was asked for, but CUDA is not available here"),
    ],
)
def test_errors_are_one_line_without_traceback(monkeypatch, capsys, exc):
    monkeypatch.delenv("SRGAN_DEBUG", raising=False)
    monkeypatch.setattr(cli, "COMMANDS", cli.COMMANDS + (_failing_command(exc),))
    assert cli.main(["fail"]) == cli.EXIT_FAILURE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("srgan fail: error: ")
    assert "Traceback" not in captured.err
    assert " ".join(str(exc).split()) in captured.err


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("SRGAN_DEBUG", "1")
    monkeypatch.setattr(cli, "COMMANDS", cli.COMMANDS + (_failing_command(ValueError("boom")),))
    with pytest.raises(ValueError, match="boom"):
        cli.main(["fail"])


def test_keyboard_interrupt(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMANDS", cli.COMMANDS + (_failing_command(KeyboardInterrupt()),))
    assert cli.main(["fail"]) == cli.EXIT_INTERRUPTED
    assert capsys.readouterr().err == "srgan: interrupted\n"


def test_python_dash_m_runs_the_command():
    result = subprocess.run(
        [sys.executable, "-m", "srgan_lib", "info", "--device", "no-such-device"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == cli.EXIT_FAILURE
    assert result.stdout == ""
    assert result.stderr.startswith("srgan info: error:") and result.stderr.count("\n") == 1


# --- the commands of issue 8 --------------------------------------------------------------------------

import os  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from srgan_lib.plumbing.checkpoint import load_checkpoint, save_checkpoint, save_weights  # noqa: E402
from srgan_lib.models import SRResNet  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py


def tiny_model(scale: int = 4) -> SRResNet:
    torch.manual_seed(0)
    return SRResNet(scale=scale, n_blocks=1, channels=8).eval()


@pytest.fixture
def weights(tmp_path) -> Path:
    m = tiny_model()
    return save_weights(m, tmp_path / "tiny.safetensors", {"model": "SRResNet", **m.config()})


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == cli.EXIT_FAILURE, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("srgan ") and ": error: " in lines[-1], err
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[-1], (f, err)


def write_png(path: Path, h: int = 16, w: int = 20, mode: str = "RGB", seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4}[mode]
    Image.fromarray(rng.integers(0, 256, (h, w, channels), dtype=np.uint8), mode=None).save(path)
    return path


@pytest.mark.parametrize("name", [c.name for c in cli.COMMANDS])
def test_every_command_has_help_with_an_example(capsys, name):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    if name != "info":
        assert "example:" in out and f"srgan {name}" in out


# demo --------------------------------------------------------------------------------------------------


def test_demo_with_given_weights_and_no_silent_overwrite(capsys, tmp_path, weights):
    out = tmp_path / "demo.png"
    code, stdout, err = run_cli(capsys, "demo", "--weights", weights, "-o", out, "--size", "96", "--device", "cpu")
    assert code == 0, err
    assert "bicubic" in stdout and "tiny" in stdout and " dB" in stdout
    with Image.open(out) as im:
        assert im.size[0] > 300
    before = out.read_bytes()
    code, _, err = run_cli(capsys, "demo", "--weights", weights, "-o", out, "--size", "96")
    assert_one_line_error(code, err, str(out), "--overwrite")
    assert out.read_bytes() == before
    assert run_cli(capsys, "demo", "--weights", weights, "-o", out, "--size", "96", "--force")[0] == 0


def test_demo_uses_the_bundled_weights_present_and_says_what_is_missing(capsys, tmp_path, monkeypatch, weights):
    import shutil

    from srgan_lib.plumbing import weights as w

    folder = tmp_path / "bundled"
    folder.mkdir()
    shutil.copy(weights, folder / "srresnet_x4.safetensors")
    monkeypatch.setattr(w, "WEIGHTS_DIR", folder)
    code, stdout, err = run_cli(capsys, "demo", "-o", tmp_path / "d.png", "--size", "64", "--image", "coffee")
    assert code == 0, err
    assert "SRResNet" in stdout and "SRGAN-MSE weights are not shipped yet" in stdout

    shutil.copy(weights, folder / "srgan_mse_x4.safetensors")  # both shipped: four columns, no note
    code, stdout, err = run_cli(capsys, "demo", "-o", tmp_path / "e.png", "--size", "64", "--image", "coffee")
    assert code == 0, err
    assert "  SRResNet " in stdout and "  SRGAN-MSE " in stdout and "not shipped" not in stdout


def test_demo_and_evaluate_take_the_scale_from_the_weights(capsys, tmp_path, weights):
    """x2 weights: the demo's LR, bicubic row, border crop and title are x2 (models.scale_of, read once); weights
    of two scales together are refused in one line."""
    x2 = tiny_model(scale=2)
    path2 = save_weights(x2, tmp_path / "tiny2.safetensors", {"model": "SRResNet", **x2.config()})
    code, stdout, err = run_cli(capsys, "demo", "--weights", path2, "-o", tmp_path / "d2.png", "--size", "64")
    assert code == 0, err
    assert "x2 from 32x32" in stdout and "2 px border" in stdout and "tiny2" in stdout
    code, _, err = run_cli(capsys, "demo", "--weights", weights, path2, "-o", tmp_path / "mix.png", "--size", "64")
    assert_one_line_error(code, err, "different scales", "[2, 4]")
    assert not (tmp_path / "mix.png").exists()


def test_demo_refuses_training_images(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", "--image", "chelsea"])
    assert exit_info.value.code == cli.EXIT_USAGE


# upscale -----------------------------------------------------------------------------------------------


def test_upscale_one_file_and_existing_output(capsys, tmp_path, weights):
    src = write_png(tmp_path / "in.png")
    dst = tmp_path / "out.png"
    code, stdout, err = run_cli(capsys, "upscale", src, "-o", dst, "--weights", weights, "--tile", "8")
    assert code == 0, err
    with Image.open(dst) as im:
        assert im.size == (80, 64) and im.mode == "RGB"
    dst.write_bytes(b"precious")
    code, _, err = run_cli(capsys, "upscale", src, "-o", dst, "--weights", weights)
    assert_one_line_error(code, err, str(dst), "already exists", "--overwrite")
    assert dst.read_bytes() == b"precious"
    assert run_cli(capsys, "upscale", src, "-o", dst, "--weights", weights, "--overwrite")[0] == 0
    with Image.open(dst) as im:
        assert im.size == (80, 64)


def test_upscale_precision_is_chosen_named_and_close_to_float32(capsys, tmp_path, weights, monkeypatch):
    """--precision bf16 (what `auto` picks on a CPU with AMX or an Ampere-or-later GPU) runs the same network in
    bf16: said on stderr, and the saved image within a few grey levels of float32's; `auto` on a CPU without AMX
    stays float32 and says nothing."""
    from srgan_lib.plumbing import runtime

    src = write_png(tmp_path / "in.png")
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: False)
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "f32.png", "--weights", weights)
    assert code == 0 and "precision" not in err, err
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "bf16.png", "--weights", weights,
                           "--precision", "bf16")
    assert code == 0 and "precision: bfloat16 on cpu" in err, err
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: True)
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "auto.png", "--weights", weights)
    assert code == 0 and "precision: bfloat16 on cpu" in err, err
    with Image.open(tmp_path / "auto.png") as a, Image.open(tmp_path / "bf16.png") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    with Image.open(tmp_path / "f32.png") as a, Image.open(tmp_path / "bf16.png") as b:
        diff = np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16))
    assert 0 < diff.max() <= 8 and diff.mean() < 1.0  # rounded differently, not a different picture
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["upscale", str(src), "-o", str(tmp_path / "x.png"), "--weights", str(weights), "--precision", "half"])
    assert exit_info.value.code == cli.EXIT_USAGE and "--precision" in capsys.readouterr().err


def test_upscale_folder_keeps_alpha_and_modes(capsys, tmp_path, weights):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    write_png(folder / "rgba.png", mode="RGBA")
    Image.fromarray(np.full((12, 14), 90, np.uint8)).save(folder / "sub" / "gray.png")
    Image.fromarray(np.zeros((12, 14, 3), np.uint8)).save(folder / "photo.jpg", quality=90)
    code, stdout, err = run_cli(capsys, "upscale", folder, "-o", tmp_path / "out", "--weights", weights)
    assert code == 0, err
    assert "3 images written" in stdout
    with Image.open(tmp_path / "out" / "rgba_x4.png") as im:
        assert im.mode == "RGBA" and im.size == (80, 64)
    with Image.open(tmp_path / "out" / "sub" / "gray_x4.png") as im:
        assert im.size == (56, 48)
    assert (tmp_path / "out" / "photo_x4.jpg").is_file()


@pytest.mark.parametrize("kind", ["zero", "truncated", "text", "missing", "small"])
def test_upscale_bad_inputs_are_one_line(capsys, tmp_path, weights, kind):
    good = write_png(tmp_path / "good.png", 32, 32)
    bad = tmp_path / f"{kind}.png"
    if kind == "zero":
        bad.write_bytes(b"")
    elif kind == "truncated":
        bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    elif kind == "text":
        bad.write_text("this is not an image\n")
    elif kind == "small":
        write_png(bad, 4, 40)
    code, _, err = run_cli(capsys, "upscale", bad, "-o", tmp_path / "o.png", "--weights", weights)
    assert_one_line_error(code, err, f"{kind}.png")
    assert not (tmp_path / "o.png").exists()


def test_upscale_folder_with_a_bad_file_writes_the_others(capsys, tmp_path, weights):
    folder = tmp_path / "in"
    folder.mkdir()
    write_png(folder / "a.png")
    (folder / "b.png").write_bytes(b"")
    write_png(folder / "c.png")
    code, _, err = run_cli(capsys, "upscale", folder, "-o", tmp_path / "out", "--weights", weights, "-q")
    assert_one_line_error(code, err, "1 of 3 images failed")
    assert "b.png" in err and "empty" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_x4.png", "c_x4.png"]


def test_upscale_unwritable_output_folder(capsys, tmp_path, weights):
    # a path below a regular file can never be written, even by root (which ignores permissions)
    src = write_png(tmp_path / "in.png")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, "upscale", src, "-o", blocker / "out.png", "--weights", weights)
    assert_one_line_error(code, err, "file.txt")
    code, _, err = run_cli(capsys, "upscale", src, src, "-o", blocker / "sub", "--weights", weights)
    assert_one_line_error(code, err, "file.txt", "output folder")
    assert blocker.read_text() == "x"


def test_upscale_wrong_weights(capsys, tmp_path, weights):
    src = write_png(tmp_path / "in.png")
    conv = torch.nn.Conv2d(3, 3, 3)
    save_weights(conv, tmp_path / "conv.safetensors", {"scale": 4})
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", tmp_path / "conv.safetensors")
    assert_one_line_error(code, err, "conv.safetensors")
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", weights, "--scale", "2")
    assert_one_line_error(code, err, "tiny.safetensors", "x4", "--scale 2")
    x2 = tiny_model(scale=2)
    (tmp_path / "x2").mkdir()
    path2 = save_weights(x2, tmp_path / "x2" / "w.safetensors", x2.config())
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", path2, "--scale", "4")
    assert_one_line_error(code, err, "x2")
    (tmp_path / "cut.safetensors").write_bytes(weights.read_bytes()[:100])
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", tmp_path / "cut.safetensors")
    assert_one_line_error(code, err, "cut.safetensors")
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", tmp_path / "nope.pt")
    assert_one_line_error(code, err, "nope.pt")
    assert not (tmp_path / "o.png").exists()


def test_upscale_from_checkpoint_and_corrupt_checkpoint(capsys, tmp_path):
    src = write_png(tmp_path / "in.png")
    m = tiny_model()
    ckpt = save_checkpoint({"config": {**m.config(), "mode": "srresnet"}, "generator": m.state_dict()},
                           tmp_path / "last.pt")
    assert run_cli(capsys, "upscale", src, "-o", tmp_path / "a.png", "--weights", ckpt)[0] == 0
    (tmp_path / "cut.pt").write_bytes(ckpt.read_bytes()[:500])
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "b.png", "--weights", tmp_path / "cut.pt")
    assert_one_line_error(code, err, "cut.pt", "not a readable srgan checkpoint")


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_by_the_command(capsys, tmp_path):
    src = write_png(tmp_path / "in.png")
    marker = tmp_path / "code-ran"
    torch.save({"config": {"scale": 4}, "generator": _Evil(marker)}, tmp_path / "evil.pt")
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", tmp_path / "evil.pt")
    assert_one_line_error(code, err, "evil.pt")
    assert not marker.exists()


# train -------------------------------------------------------------------------------------------------

TINY_TRAIN = ["--set", "n_blocks=1", "--set", "channels=8", "--set", "crop=16", "--set", "batch_size=2",
              "--set", "log_every=1", "--device", "cpu", "-q"]


@pytest.fixture
def train_data(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for k in range(3):
        write_png(folder / f"{k}.png", 40, 48, seed=k)
    return folder


def test_train_runs_exports_and_resumes(capsys, tmp_path, train_data):
    out = tmp_path / "run"
    code, stdout, err = run_cli(capsys, "train", "--preset", "quick", "--data", train_data, "--out", out,
                                "--steps", "2", *TINY_TRAIN)
    assert code == 0, err
    assert "new run" in stdout and (out / "generator.safetensors").is_file()
    assert load_checkpoint(out / "last.pt")["step"] == 2
    code, stdout, err = run_cli(capsys, "train", "--preset", "quick", "--data", train_data, "--out", out,
                                "--steps", "3", *TINY_TRAIN)
    assert code == 0, err
    assert "resuming" in stdout and "step 2" in stdout
    assert load_checkpoint(out / "last.pt")["step"] == 3
    # the exported weights upscale
    assert run_cli(capsys, "upscale", train_data / "0.png", "-o", tmp_path / "x.png", "--weights",
                   out / "generator.safetensors")[0] == 0


def test_train_under_torchrun_two_processes(tmp_path, train_data):
    """`torchrun --nproc_per_node=2 -m srgan_lib train ...` (gloo on CPU): one report from rank 0, one
    checkpoint, and a second torchrun resumes it."""
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "srgan_lib",
           "train", "--preset", "quick", "--data", str(train_data), "--out", str(out), "-q", *TINY_TRAIN]
    res = subprocess.run([*cmd, "--steps", "2"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.count("new run") == 1 and "x 2 processes (DDP)" in res.stdout
    assert load_checkpoint(out / "last.pt")["step"] == 2 and (out / "generator.safetensors").is_file()
    res = subprocess.run([*cmd, "--steps", "3"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.count("resuming") == 1 and load_checkpoint(out / "last.pt")["step"] == 3


def test_train_bad_inputs(capsys, tmp_path, train_data):
    base = ["train", "--preset", "quick", "--out", tmp_path / "r", "--steps", "1"]
    code, _, err = run_cli(capsys, *base, "--data", tmp_path / "nowhere", *TINY_TRAIN)
    assert_one_line_error(code, err, "nowhere")
    code, _, err = run_cli(capsys, *base, "--data", train_data, "--set", "no_such=1")
    assert_one_line_error(code, err, "no_such")
    code, _, err = run_cli(capsys, *base, "--data", train_data, "--set", "steps=many")
    assert_one_line_error(code, err, "steps", "int")
    code, _, err = run_cli(capsys, "train", "--preset", "nope", "--data", train_data)
    assert_one_line_error(code, err, "nope")
    small = tmp_path / "small"
    small.mkdir()
    write_png(small / "s.png", 8, 8)
    code, _, err = run_cli(capsys, *base, "--data", small, *TINY_TRAIN)
    assert_one_line_error(code, err, "16x16")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "last.pt").write_bytes(b"PK\x03\x04 truncated")
    code, _, err = run_cli(capsys, *base, "--data", train_data, *TINY_TRAIN)
    assert_one_line_error(code, err, "last.pt", "not a readable srgan checkpoint")


def test_sigint_during_train_leaves_a_resumable_checkpoint(tmp_path, train_data):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "srgan_lib", "train", "--preset", "quick", "--data", str(train_data),
           "--out", str(out), "--steps", "100000", "--set", "ckpt_every=1", *map(str, TINY_TRAIN)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 400
        while not (out / "last.pt").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == cli.EXIT_INTERRUPTED, stderr
    assert stderr.strip().splitlines()[-1] == "srgan: interrupted" and "Traceback" not in stderr
    state = load_checkpoint(out / "last.pt")  # intact (written atomically)
    stopped = state["step"]
    assert stopped >= 1
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    code = cli.main(["train", "--preset", "quick", "--data", str(train_data), "--out", str(out),
                     "--steps", str(stopped + 1), *map(str, TINY_TRAIN)])
    assert code == 0
    assert load_checkpoint(out / "last.pt")["step"] == stopped + 1


# evaluate ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "csv", "json"])
def test_evaluate_formats(capsys, tmp_path, weights, fmt):
    import csv
    import io
    import json

    folder = tmp_path / "MySet"
    folder.mkdir()
    write_png(folder / "a.png", 40, 44)
    write_png(folder / "b.png", 36, 36, seed=1)
    code, stdout, err = run_cli(capsys, "evaluate", "--weights", weights, "--sets", folder, "--format", fmt,
                                "--flavour", "standard")
    assert code == 0, err
    if fmt == "json":
        rows = json.loads(stdout)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(stdout)))
    else:
        assert "PSNR" in stdout and "MySet" in stdout and "bicubic" in stdout
        return
    assert {r["method"] for r in rows} == {"bicubic", "tiny"}
    assert {r["dataset"] for r in rows} == {"MySet"} and {r["flavour"] for r in rows} == {"standard"}
    assert all(float(r["psnr"]) > 5 for r in rows)
    assert all(float(r["grid"]) >= 0 for r in rows)  # diagnostics.grid_artifact, beside PSNR/SSIM


def test_evaluate_csv_and_json_carry_niqe(capsys, tmp_path, weights):
    """The ``niqe`` column (evaluate.score_niqe, the scale's border removed): a number for a set whose images hold a
    96 x 96 NIQE patch, empty (CSV) or null (JSON) for one that does not."""
    import csv
    import io
    import json

    from srgan_lib.data import load_eval_set
    from srgan_lib.plumbing.evaluate import bicubic_upscaler, score_niqe

    big, small = tmp_path / "Big", tmp_path / "Small"
    big.mkdir(), small.mkdir()
    write_png(big / "a.png", 112, 120)
    write_png(small / "b.png", 40, 44)
    code, stdout, err = run_cli(capsys, "evaluate", "--weights", weights, "--sets", big, small, "--format", "csv",
                                "--flavour", "paper")
    assert code == 0, err
    rows = {(r["method"], r["dataset"]): r["niqe"] for r in csv.DictReader(io.StringIO(stdout))}
    (_, lr, _), = load_eval_set(big)
    assert float(rows[("bicubic", "Big")]) == pytest.approx(score_niqe(bicubic_upscaler(4)(lr)), abs=1e-4)
    assert float(rows[("tiny", "Big")]) > 0 and rows[("bicubic", "Small")] == rows[("tiny", "Small")] == ""
    code, stdout, err = run_cli(capsys, "evaluate", "--weights", weights, "--sets", small, "--format", "json")
    assert code == 0, err
    assert [r["niqe"] for r in json.loads(stdout)] == [None] * 4


def test_evaluate_bad_inputs(capsys, tmp_path, weights, monkeypatch):
    monkeypatch.setenv("SRGAN_DATA", str(tmp_path / "empty-root"))
    code, _, err = run_cli(capsys, "evaluate", "--weights", weights, "--sets", "Set5", "--root", tmp_path / "empty-root")
    assert_one_line_error(code, err, "Set5")
    code, _, err = run_cli(capsys, "evaluate", "--weights", weights, "--sets", "NoSuchSet")
    assert_one_line_error(code, err, "NoSuchSet")
    folder = tmp_path / "tiny"
    folder.mkdir()
    write_png(folder / "a.png", 3, 3)
    code, _, err = run_cli(capsys, "evaluate", "--weights", weights, "--sets", folder)
    assert_one_line_error(code, err, "a.png", "smaller than the scale")


# download ----------------------------------------------------------------------------------------------


def test_download_list_and_unknown_name(capsys, tmp_path):
    code, stdout, _ = run_cli(capsys, "download", "--list", "--root", tmp_path)
    assert code == 0 and "Set5" in stdout and "missing" in stdout
    code, _, err = run_cli(capsys, "download", "NoSuchData", "--root", tmp_path)
    assert_one_line_error(code, err, "NoSuchData")


# --- the fault probe of issue 17: nothing lost, nothing garbage, one clear line -------------------------


def files_below(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_upscale_refuses_clashing_output_names_before_any_work(capsys, tmp_path, weights, monkeypatch):
    """Case 1: d1/a.png and d2/a.png (or a.png + a.pgm) would both write a_x4.png; even with --overwrite
    the second would silently replace the first. Refused before anything is upscaled or written."""
    from srgan_lib.plumbing import upscale

    for d in ("d1", "d2"):
        (tmp_path / d).mkdir()
        write_png(tmp_path / d / "a.png", seed=len(d))
    Image.fromarray(np.zeros((16, 20), np.uint8)).save(tmp_path / "d1" / "a.pgm")
    calls = []
    monkeypatch.setattr(upscale, "upscale_image", lambda *a, **k: calls.append(a))
    out = tmp_path / "out"
    for inputs in ([tmp_path / "d1", tmp_path / "d2"], [tmp_path / "d1"]):
        code, _, err = run_cli(capsys, "upscale", *inputs, "-o", out, "--weights", weights, "--overwrite")
        assert_one_line_error(code, err, "a_x4.png", "would both be written", "nothing was written")
        assert calls == [] and files_below(out) == []
    # the same file named twice is one job, not a clash
    monkeypatch.undo()
    code, stdout, err = run_cli(capsys, "upscale", tmp_path / "d2" / "a.png", tmp_path / "d2" / "a.png", "-o", out,
                                "--weights", weights)
    assert code == 0, err
    assert files_below(out) == ["a_x4.png"]


def test_upscale_skips_its_own_output_folder(capsys, tmp_path, weights):
    """Case 8: `srgan upscale photos -o photos/up` run twice must not upscale its own outputs (x16)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    write_png(photos / "a.png")
    for _ in range(2):
        code, _, err = run_cli(capsys, "upscale", photos, "-o", photos / "up", "--weights", weights, "--overwrite")
        assert code == 0, err
    assert files_below(photos) == ["a.png", "up/a_x4.png"]
    with Image.open(photos / "up" / "a_x4.png") as im:
        assert im.size == (80, 64)
    code, _, err = run_cli(capsys, "upscale", photos, "-o", photos, "--weights", weights)
    assert_one_line_error(code, err, "output folder")
    assert files_below(photos) == ["a.png", "up/a_x4.png"]


@pytest.mark.parametrize("option", [["--overlap", "-3"], ["--overlap", "5000"], ["--tile", "0"], ["--tile", "-8"]])
def test_upscale_bad_overlap_or_tile_is_refused(capsys, tmp_path, weights, option):
    """Case 4: a negative overlap made uninitialised black blocks with exit 0."""
    src = write_png(tmp_path / "in.png")
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", weights, *option)
    assert_one_line_error(code, err, option[0])
    assert not (tmp_path / "o.png").exists()


def test_upscale_output_name_rules(capsys, tmp_path, weights):
    """Weak: `-o out.gif` (a format not written) and `-o x.png` for several images created folders."""
    a, b = write_png(tmp_path / "a.png"), write_png(tmp_path / "b.png", seed=1)
    code, _, err = run_cli(capsys, "upscale", a, "-o", tmp_path / "out.gif", "--weights", weights)
    assert_one_line_error(code, err, "out.gif", "cannot write .gif")
    code, _, err = run_cli(capsys, "upscale", a, b, "-o", tmp_path / "x.png", "--weights", weights)
    assert_one_line_error(code, err, "x.png", "output folder")
    assert not (tmp_path / "out.gif").exists() and not (tmp_path / "x.png").exists()
    code, _, err = run_cli(capsys, "upscale", a, "-o", a, "--weights", weights, "--overwrite")
    assert_one_line_error(code, err, "a.png", "input")
    with Image.open(a) as im:
        assert im.size == (20, 16)


def test_upscale_read_only_output_is_checked_before_any_work(capsys, tmp_path, weights, monkeypatch):
    """Weak: a read-only output folder was only found after the whole upscale, naming a hidden .tmp file.
    (Tests run as root here, which ignores permissions: ``os.access`` is what the command asks.)"""
    from srgan_lib.plumbing import upscale

    folder = tmp_path / "in"
    folder.mkdir()
    write_png(folder / "a.png")
    write_png(folder / "b.png", seed=1)
    out = tmp_path / "ro"
    out.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == out else real_access(p, mode))
    monkeypatch.setattr(upscale, "upscale_image", lambda *a, **k: pytest.fail("upscaled before the check"))
    code, _, err = run_cli(capsys, "upscale", folder, "-o", out, "--weights", weights)
    assert_one_line_error(code, err, str(out), "not writable", "-o")
    assert ".tmp" not in err and files_below(out) == []


def test_upscale_output_refused_at_write_time(capsys, tmp_path, weights, refuse_writes_in):
    """``os.access`` can say yes and the write still be refused (root on a root-squashed share, an ACL): the
    refusal, made here by ``tempfile.mkstemp`` (the call that creates the output's temporary file), is still one
    line naming the output folder, with no .tmp name and nothing left in the folder."""
    src = write_png(tmp_path / "a.png")
    out = tmp_path / "ro"
    out.mkdir()
    refuse_writes_in(out)
    code, _, err = run_cli(capsys, "upscale", src, "-o", out, "--weights", weights)
    assert_one_line_error(code, err, f"the folder {out} is not writable")
    assert ".tmp" not in err and files_below(out) == []


def test_upscale_gif_and_multi_frame_files_are_explicit(capsys, tmp_path, weights):
    """Weak: folders skipped .gif; multi-frame GIF/TIFF used frame 1 silently."""
    folder = tmp_path / "in"
    folder.mkdir()
    frames = [Image.fromarray(np.full((16, 20, 3), v, np.uint8)) for v in (10, 200)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "pages.tif", save_all=True, append_images=frames[1:])
    write_png(folder / "still.png")
    code, stdout, err = run_cli(capsys, "upscale", folder, "-o", tmp_path / "out", "--weights", weights)
    assert code == 0, err
    assert files_below(tmp_path / "out") == ["anim_x4.png", "pages_x4.tif", "still_x4.png"]
    warnings_ = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(warnings_) == 2 and all("2 frames" in ln and "only the first" in ln for ln in warnings_), err
    assert "anim.gif" in err and "pages.tif" in err and "Traceback" not in err


def test_upscale_large_input_has_a_limit_an_estimate_and_progress(capsys, tmp_path, weights, monkeypatch):
    """Weak: a 100-megapixel input was accepted with no estimate and no progress."""
    src = write_png(tmp_path / "big.png", 60, 50)  # 0.003 megapixels, "large" with the limits below
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", weights,
                           "--max-megapixels", "0.001")
    assert_one_line_error(code, err, "big.png", "megapixels", "--max-megapixels 0", "200x240")
    assert not (tmp_path / "o.png").exists()
    monkeypatch.setattr(cli, "LARGE_OUTPUT", 1000)
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", weights,
                           "--max-megapixels", "0", "--tile", "16")
    assert code == 0, err
    assert "big.png: 50x60 -> 200x240" in err and "16 tiles of 16 LR pixels" in err  # ceil(60/16) * ceil(50/16)
    assert re.search(r"expected about \d+ s on cpu \(timed on a 64x64 probe\)", err)
    assert "48.0k/48.0k" in err  # the progress bar, updated after each tile, reached 200 x 240 output pixels
    with Image.open(tmp_path / "o.png") as im:
        assert im.size == (200, 240)


def test_upscale_removes_stale_temp_files_of_a_killed_write(capsys, tmp_path, weights):
    src = write_png(tmp_path / "a.png")
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".a_x4.png.k1ll3d_x.tmp"
    stale.write_bytes(b"half a png")
    other = out / ".notes.txt.abcdefgh.tmp"  # not one of this run's outputs: left alone
    other.write_bytes(b"x")
    code, _, err = run_cli(capsys, "upscale", src, src, "-o", out, "--weights", weights)
    assert code == 0, err
    assert not stale.exists() and other.exists() and (out / "a_x4.png").is_file()


def test_non_finite_or_damaged_weights_are_refused_by_the_command(capsys, tmp_path):
    """Cases 5 and 6: NaN weights gave exit 0 and a black image; damaged metadata a traceback."""
    import json

    from safetensors.torch import save_file

    src = write_png(tmp_path / "in.png")
    m = tiny_model()
    tensors = {k: v.clone() for k, v in m.state_dict().items()}
    tensors["tail.bias"][0] = float("nan")
    save_file(tensors, tmp_path / "nan.safetensors", metadata={"scale": "4"})
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", tmp_path / "nan.safetensors")
    assert_one_line_error(code, err, "nan.safetensors", "NaN or infinite")
    good = {k: v.contiguous() for k, v in m.state_dict().items()}
    for value in (None, [4], 0, 3, "4"):
        path = tmp_path / "meta.safetensors"
        save_file(good, path, metadata={"scale": json.dumps(value)})
        code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", path)
        assert_one_line_error(code, err, "meta.safetensors", "scale")
    assert not (tmp_path / "o.png").exists()


def test_device_names_are_checked(capsys, tmp_path, weights, train_data):
    src = write_png(tmp_path / "in.png")
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", weights, "--device", "tpu")
    assert_one_line_error(code, err, "--device 'tpu'", "cpu")
    code, _, err = run_cli(capsys, "train", "--preset", "quick", "--data", train_data, "--out", tmp_path / "r",
                           "--device", "tpu")
    assert_one_line_error(code, err, "--device 'tpu'")
    assert len(err) < 200 and not (tmp_path / "r").exists()


def test_weights_only_refusal_is_short(capsys, tmp_path):
    """Weak: torch's 1,000-character refusal even suggested weights_only=False."""
    src = write_png(tmp_path / "in.png")
    marker = tmp_path / "code-ran"
    torch.save({"config": {"scale": 4}, "generator": _Evil(marker)}, tmp_path / "evil.pt")
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.png", "--weights", tmp_path / "evil.pt")
    assert_one_line_error(code, err, "evil.pt", "refused: this file can run code when loaded")
    assert "weights_only=False" not in err and len(err) < 400 and not marker.exists()


def test_evaluate_limit_must_be_positive(capsys, tmp_path, weights):
    """Case 9: `--limit 0` printed a table of NaN."""
    folder = tmp_path / "MySet"
    folder.mkdir()
    write_png(folder / "a.png", 40, 44)
    for limit in ("0", "-2"):
        code, stdout, err = run_cli(capsys, "evaluate", "--weights", weights, "--sets", folder, "--limit", limit)
        assert_one_line_error(code, err, f"--limit {limit}")
        assert stdout == ""


def test_train_keeps_a_generator_it_did_not_write(capsys, tmp_path, train_data, weights):
    """Case 2: a trained generator.safetensors without last.pt was replaced by the new run's weights."""
    out = tmp_path / "run"
    out.mkdir()
    trained = out / "generator.safetensors"
    trained.write_bytes(weights.read_bytes())
    args = ["train", "--preset", "quick", "--data", train_data, "--out", out, "--steps", "1", *TINY_TRAIN]
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, "generator.safetensors", "--overwrite")
    assert trained.read_bytes() == weights.read_bytes() and not (out / "last.pt").exists()
    code, stdout, err = run_cli(capsys, *args, "--overwrite")
    assert code == 0, err
    assert trained.read_bytes() != weights.read_bytes() and (out / "last.pt").is_file()
    # its own generator (last.pt present) is replaced by a resumed run without --overwrite
    code, stdout, err = run_cli(capsys, *args[:-len(TINY_TRAIN) - 1], "2", *TINY_TRAIN)
    assert code == 0, err
    assert "resuming" in stdout


_HOLD_LOCK = """
import sys, time
from srgan_lib.plumbing.checkpoint import run_lock
with run_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(300)
"""


def test_train_refuses_a_second_run_on_the_same_folder(capsys, tmp_path, train_data):
    """Case 3: two `srgan train` on one --out both ran, the last to finish won. The OS lock dies with
    the process that holds it, even on SIGKILL."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).resolve().parents[2])}
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = ["train", "--preset", "quick", "--data", train_data, "--out", out, "--steps", "1", *TINY_TRAIN]
        code, _, err = run_cli(capsys, *args)
        assert_one_line_error(code, err, str(out), "another srgan train is running", "--out")
        assert not (out / "last.pt").exists()
    finally:
        holder.kill()
        holder.wait(timeout=60)
    code, stdout, err = run_cli(capsys, *args)
    assert code == 0, err
    assert (out / "last.pt").is_file()


@pytest.mark.parametrize("bad", [["--set", "log_every=0"], ["--set", "ckpt_every=0"], ["--set", "val_every=0"],
                                 ["--steps", "-1"], ["--steps", "0"], ["--set", "crop=0"], ["--set", "crop=50"],
                                 ["--set", "batch_size=0"], ["--set", "channels=0"], ["--set", "lr=inf"],
                                 ["--set", "lr=nan"], ["--set", "schedule=linear"], ["--set", "seed=-1"]])
def test_train_options_are_validated_in_one_line(capsys, tmp_path, train_data, bad):
    """Case 7 (and the lr=inf message that pointed to a last.pt never written): each bad value fails
    before any work, in one line naming the option and its valid range."""
    key = bad[1].split("=")[0] if bad[0] == "--set" else "steps"
    out = tmp_path / "r"
    code, _, err = run_cli(capsys, "train", "--preset", "quick", "--data", train_data, "--out", out, *bad)
    assert_one_line_error(code, err, f"training option {key}=", "use ")
    assert not out.exists()


@pytest.mark.parametrize("value", ["none", "gan", "srgan"])
def test_train_mode_is_not_a_set_option(capsys, tmp_path, train_data, value):
    """Case 7: `--set mode=...` was a TypeError (preset() got mode twice)."""
    code, _, err = run_cli(capsys, "train", "--preset", "quick", "--data", train_data, "--out", tmp_path / "r",
                           "--set", f"mode={value}")
    assert_one_line_error(code, err, "--mode srresnet or --mode srgan")


def test_train_skip_small_advice_is_a_flag(capsys, tmp_path, train_data):
    """Weak: the advice "pass skip_small=True" could not be followed with --set."""
    write_png(train_data / "tiny.png", 8, 8)
    args = ["train", "--preset", "quick", "--data", train_data, "--out", tmp_path / "r", "--steps", "1", *TINY_TRAIN]
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, "tiny.png", "--skip-small")
    assert "skip_small=True" not in err
    code, _, err = run_cli(capsys, *args, "--skip-small")
    assert code == 0, err
    assert "tiny.png" in err  # the warning names what was skipped


def test_train_resume_warns_about_a_changed_seed(capsys, tmp_path, train_data):
    """Weak: a resumed run silently ignored a changed --set seed=."""
    base = ["train", "--preset", "quick", "--data", train_data, "--out", tmp_path / "r", *TINY_TRAIN]
    assert run_cli(capsys, *base, "--steps", "1")[0] == 0
    code, stdout, err = run_cli(capsys, *base, "--steps", "2", "--set", "seed=5")
    assert code == 0, err
    assert "resuming" in stdout
    line = next(ln for ln in err.splitlines() if "warning" in ln)
    assert line.startswith("srgan: warning:") and "seed 0 -> 5" in line and "no effect" in line


def test_train_disk_full_is_one_clear_line(capsys, tmp_path, train_data, monkeypatch):
    """Weak: a full disk while saving showed `[enforce fail at inline_container.cc:672]`."""
    from srgan_lib.plumbing import checkpoint

    def full_disk(obj, f, *a, **k):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed writing file "
                           "data/0: file write failed")

    monkeypatch.setattr(checkpoint.torch, "save", full_disk)
    out = tmp_path / "r"
    code, _, err = run_cli(capsys, "train", "--preset", "quick", "--data", train_data, "--out", out, "--steps", "1",
                           *TINY_TRAIN)
    assert_one_line_error(code, err, "last.pt", "disk is full", "free some space")
    assert "enforce fail" not in err
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []


def test_train_removes_stale_temp_files_of_a_killed_run(capsys, tmp_path, train_data):
    out = tmp_path / "r"
    out.mkdir()
    stale = out / ".last.pt.abcd_123.tmp"
    stale.write_bytes(b"half a checkpoint")
    code, _, err = run_cli(capsys, "train", "--preset", "quick", "--data", train_data, "--out", out, "--steps", "1",
                           *TINY_TRAIN)
    assert code == 0, err
    assert not stale.exists() and (out / "last.pt").is_file()


def test_upscale_single_output_file_needs_its_folder(capsys, tmp_path, weights):
    src = write_png(tmp_path / "a.png")
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "typo" / "a_x4.png", "--weights", weights)
    assert_one_line_error(code, err, "typo", "does not exist")
    assert not (tmp_path / "typo").exists()


def test_train_without_data_says_which_images_it_uses(capsys, tmp_path, train_data, monkeypatch):
    """Issue 14: without --data the run takes $SRGAN_TRAIN_DATA, else (offline, cpu/quick presets) the two
    bundled photographs, and its summary says so and which command fetches DIV2K."""
    monkeypatch.delenv("SRGAN_TRAIN_DATA", raising=False)
    monkeypatch.setenv("SRGAN_DATA", str(tmp_path / "empty-root"))  # no DIV2K in the first data root either
    code, stdout, err = run_cli(capsys, "train", "--preset", "quick", "--out", tmp_path / "toy", "--steps", "1",
                                *TINY_TRAIN)
    assert code == 0, err
    line = next(ln for ln in stdout.splitlines() if ln.startswith("training data: "))
    assert "toy" in line and "chelsea, rocket" in line and "srgan download DIV2K-train" in line
    assert "download=True" not in line
    monkeypatch.setenv("SRGAN_TRAIN_DATA", str(train_data))
    code, stdout, err = run_cli(capsys, "train", "--preset", "quick", "--out", tmp_path / "env", "--steps", "1",
                                *TINY_TRAIN)
    assert code == 0, err
    assert f"training images from {train_data} ($SRGAN_TRAIN_DATA)" in stdout


# -- the fault probe of issue 28 --------------------------------------------------------------------------


def _truncated_multi_frame(path: Path, fmt: str, error: type) -> Path:
    """A 3-frame ``fmt`` file cut where counting its frames makes Pillow raise ``error`` (IndexError for GIF,
    TypeError for TIFF: the probe's tracebacks)."""
    import io
    import warnings

    frames = [Image.fromarray(np.random.default_rng(k).integers(0, 256, (24, 24, 3), dtype=np.uint8)) for k in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format=fmt, save_all=True, append_images=frames[1:])
    raw = buf.getvalue()
    for cut in range(len(raw) - 1, 8, -1):
        path.write_bytes(raw[:cut])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(path) as im:
                    im.n_frames
        except error:
            return path
        except Exception:  # noqa: BLE001 - another kind of damage: keep cutting
            pass
    raise AssertionError(f"no cut of the {fmt} raises {error.__name__}")


def test_upscale_folder_lists_and_skips_truncated_gif_and_tiff(capsys, tmp_path, weights):
    """Bad 1-4: a truncated GIF or multi-page TIFF ended `srgan upscale` with a traceback and stopped a folder after
    its first good file. Each is listed and skipped; the good files are written."""
    folder = tmp_path / "in"
    folder.mkdir()
    write_png(folder / "a.png")
    _truncated_multi_frame(folder / "b.gif", "GIF", IndexError)
    _truncated_multi_frame(folder / "c.tif", "TIFF", TypeError)
    write_png(folder / "d.png")
    code, _, err = run_cli(capsys, "upscale", folder, "-o", tmp_path / "out", "--weights", weights, "-q")
    assert_one_line_error(code, err, "2 of 4 images failed")
    assert "skipped" in err and "b.gif" in err and "c.tif" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_x4.png", "d_x4.png"]
    for name, fmt, error in (("one.gif", "GIF", IndexError), ("one.tif", "TIFF", TypeError)):  # alone: one line
        code, _, err = run_cli(capsys, "upscale", _truncated_multi_frame(tmp_path / name, fmt, error),
                               "-o", tmp_path / "one.png", "--weights", weights)
        assert_one_line_error(code, err, name, "truncated or corrupt")


def test_upscale_folder_skips_a_file_whatever_the_exception(capsys, tmp_path, weights, monkeypatch):
    """Bad 1-4, the handler: only ValueError/OSError were caught per file, so any other exception stopped the run."""
    from srgan_lib.plumbing import upscale

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        write_png(folder / name)
    real = upscale.upscale_file

    def flaky(model, src, dst, **kw):
        if Path(src).name == "b.png":
            raise TypeError("Missing dimensions")
        return real(model, src, dst, **kw)

    monkeypatch.setattr(upscale, "upscale_file", flaky)
    code, _, err = run_cli(capsys, "upscale", folder, "-o", tmp_path / "out", "--weights", weights, "-q")
    assert_one_line_error(code, err, "1 of 3 images failed")
    assert "b.png" in err and "TypeError: Missing dimensions" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_x4.png", "c_x4.png"]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf"])
def test_upscale_max_megapixels_must_be_a_finite_number(capsys, tmp_path, weights, value):
    """Bad 6: `--max-megapixels nan` was accepted and switched the 16 MP limit off."""
    src = write_png(tmp_path / "in.png")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["upscale", str(src), "-o", str(tmp_path / "o.png"), "--weights", str(weights),
                  f"--max-megapixels={value}"])
    assert exit_info.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--max-megapixels" in err and "not a finite number" in err
    assert not (tmp_path / "o.png").exists()


def test_no_option_of_any_command_parses_a_bare_float():
    """Bad 6, every command: float('nan') and float('inf') parse, so each float option takes the finite-number type
    (train's --set values are checked by TrainConfig.validate (the rule beside each field in presets.py), tested in test_train_options_are_validated...)."""
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    checked = []
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.type is not float, f"srgan {name} {action.option_strings}: parsed with float (accepts nan)"
            if action.type is cli.finite_number:
                checked.append(f"{name} {action.option_strings[0]}")
    assert "upscale --max-megapixels" in checked


@pytest.mark.parametrize("key", ["lr", "min_lr", "adversarial_weight", "ema_decay", "lr_d", "vgg_rescale"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_train_float_options_refuse_nan_and_inf(capsys, tmp_path, train_data, key, value):
    """Bad 6, train: every float option (--set) refuses NaN and infinity before any work."""
    out = tmp_path / "r"
    code, _, err = run_cli(capsys, "train", "--preset", "quick", "--mode", "srgan", "--init", "none", "--data",
                           train_data, "--out", out, "--set", f"{key}={value}")
    assert_one_line_error(code, err, f"training option {key}=")
    assert not out.exists()


@pytest.mark.parametrize("argv", [["upscale", "IN", "-o", "OUT", "--weights", ""],
                                  ["upscale", "IN", "-o", "OUT", "--weights", "  "],
                                  ["demo", "-o", "OUT", "--weights", ""],
                                  ["evaluate", "--weights", "", "--sets", "IN"],
                                  ["train", "--preset", "quick", "--mode", "srgan", "--init", ""]])
def test_an_empty_weights_value_is_refused(capsys, tmp_path, argv):
    """Weak: `--weights ''` silently used the default weights."""
    src = write_png(tmp_path / "in.png")
    argv = [str(src) if a == "IN" else str(tmp_path / "o.png") if a == "OUT" else a for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty" in err and ("--weights" in err or "--init" in err)
    assert not (tmp_path / "o.png").exists()


def test_rerun_after_an_interrupted_folder_keeps_its_outputs_and_exits_0(capsys, tmp_path, weights):
    """Weak: re-running `srgan upscale` after Ctrl-C mid-folder finished the missing files but exited 1 with
    "3 of 8 images failed", counting the first run's outputs as failures."""
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for k in range(5):
        write_png(folder / f"{k}.png", seed=k)
    code, _, err = run_cli(capsys, "upscale", folder / "0.png", folder / "1.png", "-o", out, "--weights", weights)
    assert code == 0, err  # the run that was interrupted after two files
    first = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    code, stdout, err = run_cli(capsys, "upscale", folder, "-o", out, "--weights", weights)
    assert code == 0, err
    assert "failed" not in err and "3 images written" in stdout
    assert "kept 2 existing outputs" in err and "--overwrite" in err
    assert files_below(out) == [f"{k}_x4.png" for k in range(5)]
    assert all(out.joinpath(n).stat().st_mtime_ns == t for n, t in first.items())  # kept, not rewritten
    (folder / "9.png").write_bytes(b"")  # a real failure still fails, and the kept files are not counted as one
    code, _, err = run_cli(capsys, "upscale", folder, "-o", out, "--weights", weights)
    assert_one_line_error(code, err, "1 of 6 images failed", "kept 5 existing outputs")


def test_upscale_warns_with_the_estimate_when_the_tile_makes_it_slow(capsys, tmp_path, weights, monkeypatch):
    """Weak: `--tile 1` (and other tile sizes that make a run take hours) started without a word. Timing is faked
    (1 ms per LR pixel of network work): only the tile's slowdown and the estimate's threshold are tested."""
    from srgan_lib.plumbing import upscale

    monkeypatch.setattr(upscale, "seconds_per_pixel", lambda model, probe=64: 1e-3)
    src = write_png(tmp_path / "in.png", 40, 40)  # 1.6 s of work in one pass; tile 2 reads each pixel ~100 times
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "a.png", "--weights", weights, "--tile", "2")
    assert code == 0, err
    warning = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(warning) == 1 and "in.png: --tile 2" in warning[0] and "expected about" in warning[0], err
    assert "times --tile auto's" in warning[0] and "larger --tile" in warning[0]
    for tile in ("auto", "64", "none"):  # as fast as auto (or faster): no warning
        code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / f"{tile}.png", "--weights", weights,
                               "--tile", tile)
        assert code == 0 and "warning" not in err, (tile, err)
    monkeypatch.setattr(upscale, "seconds_per_pixel", lambda model, probe=64: 1e-6)  # slow by a factor, but short
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "b.png", "--weights", weights, "--tile", "2")
    assert code == 0 and "warning" not in err, err


def _assert_clear_folder_error(code: int, err: str, path: Path, *fragments: str) -> None:
    assert_one_line_error(code, err, str(path), *fragments)
    assert "[Errno" not in err and "inline_container" not in err, err


def test_train_out_that_cannot_be_a_folder_is_one_clear_line(capsys, tmp_path, train_data):
    """Weak: raw `[Errno 20]`/`[Errno 17]` for `train --out` below a file or on one (a "read-only" target root
    cannot be made with permission bits: root ignores them)."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = blocker / "run"
    code, _, err = run_cli(capsys, "train", "--preset", "quick", "--data", train_data, "--out", out, "--steps", "1",
                           *TINY_TRAIN)
    _assert_clear_folder_error(code, err, out, "is a file, not a folder", "--out")


def test_train_out_on_a_read_only_file_system_is_one_clear_line(capsys, tmp_path, train_data, monkeypatch):
    """Weak: raw `[Errno 30] Read-only file system` for `train --out` (EROFS faked: root ignores permissions)."""
    import errno

    out = tmp_path / "ro"
    real_open = os.open

    def read_only(path, flags, *a, **k):
        if Path(path).parent == out and flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(os, "open", read_only)
    code, _, err = run_cli(capsys, "train", "--preset", "quick", "--data", train_data, "--out", out, "--steps", "1",
                           *TINY_TRAIN)
    _assert_clear_folder_error(code, err, out, "read-only file system", "--out")


def test_train_full_disk_torch_message_is_one_clear_line(capsys, tmp_path, train_data, monkeypatch):
    """Weak: on a full disk torch.save says `[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598`
    (what it raises writing to /dev/full), which was shown as it is."""
    from srgan_lib.plumbing import checkpoint

    def full_disk(obj, f, *a, **k):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")

    monkeypatch.setattr(checkpoint.torch, "save", full_disk)
    out = tmp_path / "r"
    code, _, err = run_cli(capsys, "train", "--preset", "quick", "--data", train_data, "--out", out, "--steps", "1",
                           *TINY_TRAIN)
    _assert_clear_folder_error(code, err, out / "last.pt", "disk is full", "free some space")


@pytest.mark.parametrize("bad", [["--set", "init_generator=/etc/passwd"], ["--init", "/etc/passwd"]])
def test_a_failed_train_start_removes_its_lock(capsys, tmp_path, train_data, bad):
    """Weak: a failed `srgan train` start left the `.lock` it created in --out."""
    out = tmp_path / "r"
    code, _, err = run_cli(capsys, "train", "--preset", "quick", "--mode", "srgan", "--data", train_data,
                           "--out", out, "--steps", "1", *bad, *TINY_TRAIN)
    assert_one_line_error(code, err, "passwd")
    assert not (out / ".lock").exists()


def test_download_error_names_the_url_once_and_counts_the_attempts(capsys, tmp_path, monkeypatch):
    """Weak: the CLI's download error repeated the URL five times (each attempt's message, then the manual
    instructions)."""
    import socket

    from srgan_lib.plumbing import download as dl

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/tiny.zip"
    spec = dl.DatasetSpec(name="Set5", kind="archive", image_count=5, files=(dl.RemoteFile((url,), "tiny.zip"),))
    monkeypatch.setitem(dl.REGISTRY, "Set5", spec)
    monkeypatch.setattr(dl.time, "sleep", lambda s: None)
    code, _, err = run_cli(capsys, "download", "Set5", "--root", tmp_path / "data")
    assert_one_line_error(code, err, "could not download tiny.zip", "5 attempts", str(tmp_path / "data" / "Set5"))
    assert err.count(url) == 1, err


def test_readme_and_help_state_the_real_smallest_input(capsys, tmp_path, weights):
    """Weak: README said "any size" while images under 9x9 are refused."""
    from srgan_lib.plumbing.upscale import MIN_SIDE

    readme = (Path(cli.__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    line = next(ln for ln in readme.splitlines() if "srgan upscale photo.jpg" in ln)
    upscale = next(c for c in cli.COMMANDS if c.name == "upscale")
    for text in (line, upscale.help):
        assert "any size" not in text and f"{MIN_SIDE}x{MIN_SIDE}" in text, text
    write_png(tmp_path / "small.png", MIN_SIDE - 1, 20)
    write_png(tmp_path / "least.png", MIN_SIDE, MIN_SIDE)
    code, _, err = run_cli(capsys, "upscale", tmp_path / "small.png", "-o", tmp_path / "s.png", "--weights", weights)
    assert_one_line_error(code, err, f"at least {MIN_SIDE}x{MIN_SIDE}")
    assert run_cli(capsys, "upscale", tmp_path / "least.png", "-o", tmp_path / "l.png", "--weights", weights)[0] == 0
