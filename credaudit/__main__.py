"""``python -m credaudit``."""

from credaudit.cli import main

main()
