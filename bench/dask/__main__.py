from bench.dask.main import main

raise SystemExit(main())
