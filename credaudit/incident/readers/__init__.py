"""One reader per log kind; ``detect`` picks one from a file's first bytes."""
