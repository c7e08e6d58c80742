from mpg.cli import main

raise SystemExit(main())
