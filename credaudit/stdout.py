"""What credaudit's output needs of stdout's encoding, in one place: whether it is UTF-8 (bulk
JSON lines then go to the binary buffer as they are), and, when it is not, escapes instead of
errors for what it lacks.
"""

from __future__ import annotations

import codecs
import sys

ESCAPE = "credaudit-escape"


def encoding_of(stream: object) -> str | None:
    """Python's own name for a stream's encoding (``utf-8`` however it was spelled: ``UTF8``,
    ``utf_8``, ``U8``), or None when it has none Python knows."""
    name = getattr(stream, "encoding", None)
    if not isinstance(name, str) or not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def is_utf8(stream: object) -> bool:
    return encoding_of(stream) == "utf-8"


def _escape_unencodable(error: UnicodeError) -> tuple[str, int]:
    """``backslashreplace`` in JSON's own spelling, so a JSON reader turns every escape back
    into its character: ``\\u00e9`` (not ``\\xe9``, on an ASCII stdout) and, beyond U+FFFF,
    the UTF-16 surrogate pair ``\\ud83d\\ude42`` (not ``\\U0001f642``)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    escapes = []
    for char in error.object[error.start : error.end]:
        point = ord(char)
        if point > 0xFFFF:
            point -= 0x10000
            escapes.append(f"\\u{0xD800 + (point >> 10):04x}\\u{0xDC00 + (point & 0x3FF):04x}")
        else:
            escapes.append(f"\\u{point:04x}")
    return "".join(escapes), error.end


codecs.register_error(ESCAPE, _escape_unencodable)


def lossless_stdout() -> None:
    """Write what stdout cannot encode as ``\\uXXXX`` escapes rather than fail.

    On a stdout that is not UTF-8 (a latin-1 terminal, ``PYTHONIOENCODING``) that is text
    every format holds, such as the masked form's ``…``; inside a JSON string the escape
    reads back as the same character (beyond U+FFFF as its surrogate pair, as JSON spells
    it).  On a strict UTF-8 stdout (an ordinary ``en_US.UTF-8`` locale) it is the lone
    surrogates that command-line bytes which are not UTF-8 decode to (a profile name, a
    path): shown as their escapes instead of an internal error.  A stdout Python opened with
    ``surrogateescape`` (the C and C.UTF-8 locales) keeps writing those bytes back."""
    out = sys.stdout
    encoding = encoding_of(out)
    if encoding is None or not hasattr(out, "reconfigure"):
        return
    if encoding != "utf-8" or getattr(out, "errors", None) == "strict":
        out.reconfigure(errors=ESCAPE)
