"""The ``srgan`` command: version, help, subcommand registry, one-line errors without traceback."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

import srgan_lib
from srgan_lib import cli


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
    for command in cli.COMMANDS:
        assert command.name in out and command.help in out


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
