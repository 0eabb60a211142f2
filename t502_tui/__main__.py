"""Allow ``python -m t502_tui``."""

from t502_tui.cli import main

raise SystemExit(main())
