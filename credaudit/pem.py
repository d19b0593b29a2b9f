"""A public key from PEM text: a public key or a certificate's, for the verifiers of JWT
(``credaudit token --public-key``) and CloudFront signatures (``credaudit url --public-key``).

One reader, so both commands take the same files and say the same thing about a bad one.
"""

from __future__ import annotations

from typing import Any

from credaudit.errors import InputError

# The most a --public-key file is read of: a certificate chain is a few KB.
MAX_PEM_BYTES = 256 * 1024


def load_public_key(pem: bytes, label: str) -> Any:
    """The public key in ``pem`` (``BEGIN PUBLIC KEY`` or ``BEGIN CERTIFICATE``); an
    InputError naming ``label`` (the option and file) when it is neither."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        if b"BEGIN CERTIFICATE" in pem:
            return x509.load_pem_x509_certificate(pem).public_key()
        return load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise InputError(f"{label}: not a PEM public key or certificate") from None
