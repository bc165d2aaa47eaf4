"""``python -m srgan_lib`` runs the ``srgan`` command."""

from .plumbing.cli import main

raise SystemExit(main())
