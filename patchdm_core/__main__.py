from .cli.common import main

raise SystemExit(main())
