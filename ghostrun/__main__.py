"""`python -m ghostrun` is the `ghostrun` command."""

from ghostrun.cli import main

main()
