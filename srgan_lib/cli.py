"""The ``srgan`` command (floor 4): a thin shell over the library, one small function per subcommand.

Adding a subcommand (``demo``, ``upscale``, ``train``, ``evaluate``, ``download``, ...) takes two steps:

1. write ``_add_NAME(parser)`` (its arguments) and ``_run_NAME(args) -> int`` (the work, importing
   from the floors below *inside* the function, so ``srgan --help`` stays fast);
2. add one :class:`Command` line to :data:`COMMANDS`.

Errors are reported as one line on stderr (``srgan: error: ...``) with a non-zero exit status, never as a
traceback: raise :class:`CommandError` (or let a ``ValueError``/``OSError``/``RuntimeError`` from the
library, whose messages name the file and the problem, propagate). ``SRGAN_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Callable, NoReturn, Sequence

from . import __version__

PROG = "srgan"

#: Exit statuses: 0 success, 1 the command failed, 2 bad usage, 130 interrupted (Ctrl-C).
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EPILOG = """\
examples:
  srgan --version
  srgan info                 versions, and the device the tutorial would use here
  srgan COMMAND --help       the options of one command

The notebooks in notebooks/ teach what each command does (Ledig et al., CVPR 2017).
"""


class CommandError(Exception):
    """A failure to report as one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (``srgan: error: ...``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, a one-line help, how to add its arguments, and what it runs."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --- srgan info ----------------------------------------------------------------------------------


def _add_info(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="device to describe: auto (default), cpu, cuda, mps")


def _run_info(args: argparse.Namespace) -> int:
    import platform

    import torch

    from .runtime import describe_device, pick_device, quick_mode

    device = describe_device(pick_device(args.device))  # fails before printing anything
    print(f"srgan-tutorial {__version__}")
    print(f"python {platform.python_version()}, torch {torch.__version__}")
    print(f"device: {device}")
    print(f"quick run (SRGAN_QUICK): {quick_mode()}")
    return EXIT_OK


# --- the registry: the one place that lists the subcommands ---------------------------------------

COMMANDS: tuple[Command, ...] = (
    Command("info", "print versions and the device the tutorial would use", _add_info, _run_info),
)


def build_parser() -> argparse.ArgumentParser:
    """The ``srgan`` parser with every registered subcommand."""
    parser = _Parser(
        prog=PROG,
        description="SRGAN (Ledig et al., CVPR 2017, arXiv:1609.04802), step by step: the tutorial's command line.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(p)
        p.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``srgan`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        return int(args._run(args) or EXIT_OK)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CommandError, ValueError, OSError, RuntimeError) as exc:
        if os.environ.get("SRGAN_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__  # one line, whatever the message
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return EXIT_FAILURE
