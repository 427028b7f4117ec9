from bench.suggest.main import main

raise SystemExit(main())
