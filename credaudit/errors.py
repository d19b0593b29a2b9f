"""Errors the CLI maps to exit codes: bad input (2) versus everything else (3)."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from the user: one clear line naming the input and the problem; exit 2."""
