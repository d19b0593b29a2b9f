"""credaudit: find AWS ExpiredToken failures before they happen."""

__version__ = "0.1.0"
