"""Write the diagrams of :mod:`srgan_lib.figures.diagrams` as the committed SVG files in ``docs/figures/``.

    python scripts/make_diagrams.py            # (re)write docs/figures/NAME.svg for every diagram
    python scripts/make_diagrams.py --check    # exit 1 if a committed SVG differs from a fresh rendering

The files are deterministic: text stays text (``svg.fonttype = "none"``), element ids come from a fixed
``svg.hashsalt`` and no date is written, so the same code and the same matplotlib give the same bytes.
``tests/test_diagrams.py`` runs ``--check``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

OUT_DIR = Path(__file__).resolve().parents[1] / "docs" / "figures"
SVG_RC = {"svg.hashsalt": "srgan-tutorial", "svg.fonttype": "none"}


def render_svg(name: str) -> bytes:
    """The SVG bytes of one diagram of ``srgan_lib.figures.diagrams.DIAGRAMS``."""
    import matplotlib.pyplot as plt

    from srgan_lib.figures.diagrams import DIAGRAMS

    with matplotlib.rc_context(SVG_RC):
        fig = DIAGRAMS[name]()
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        plt.close(fig)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    from srgan_lib.figures.diagrams import DIAGRAMS
    from srgan_lib.plumbing.files import atomic_write

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[[], *DIAGRAMS], help="diagrams to write (default: all)")
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder (default docs/figures)")
    args = parser.parse_args(argv)
    stale = []
    for name in args.names or list(DIAGRAMS):
        path = args.out / f"{name}.svg"
        svg = render_svg(name)
        if args.check:
            if not path.is_file() or path.read_bytes() != svg:
                stale.append(path.name)
            continue
        atomic_write(path, lambda tmp, svg=svg: Path(tmp).write_bytes(svg))
        print(f"wrote {path.relative_to(args.out.parent.parent) if args.out == OUT_DIR else path}")
    if stale:
        print(f"stale or missing in {args.out.name}/: {', '.join(stale)}; run python scripts/make_diagrams.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
