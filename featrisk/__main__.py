"""``python -m featrisk``: the command line, as the ``featrisk`` script."""

from featrisk.cli import main

raise SystemExit(main())
