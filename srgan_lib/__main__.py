"""``python -m srgan_lib`` runs the ``srgan`` command."""

from .cli import main

raise SystemExit(main())
