"""`python -m t3tui`: the same entry point as the `t3tui` command."""

from t3tui.cli import main

raise SystemExit(main())
