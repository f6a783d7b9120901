from t3tui.cli import main

raise SystemExit(main())
