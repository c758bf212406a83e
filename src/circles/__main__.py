"""Allow ``python -m circles``."""

from circles.cli import main

main()
