"""``python -m forcefit`` runs the ``forcefit`` command line."""

from .cli.main import main

raise SystemExit(main())
