"""python -m checker ..."""

from checker.runner import pin_threads_early

pin_threads_early()  # before anything imports numpy

from checker.cli import main  # noqa: E402

raise SystemExit(main())
