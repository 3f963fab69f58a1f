"""API token keys: long random secrets, stored as SHA-256 with a lookup prefix.

A slow password hasher buys nothing for 256-bit random keys and would cost every request
hundreds of milliseconds; a constant-time compare of a SHA-256 digest is the right tool.
"""

import hashlib
import hmac
import secrets

KEY_PREFIX = "gai"
PREFIX_BYTES = 6
SECRET_BYTES = 32


def generate_key() -> tuple[str, str]:
    """Return (lookup prefix, full key). The key is shown once and never stored."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    return prefix, f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def prefix_of(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != PREFIX_BYTES * 2:
        return None
    return parts[1]


def key_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), key_hash)
