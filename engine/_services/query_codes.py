"""The query code (查询码) of a case: eight characters the applicant types at /hall/track beside the case
number, printed on every receipt and notice.

The alphabet leaves out 0/O and 1/I/L, so a code read off paper is typed right; 31⁸ ≈ 8.5 × 10¹¹ codes,
and the hall's lookup is rate-limited, so guessing one case's code is out of reach. It is compared in
constant time, and a wrong code and an unknown case look alike to whoever asks.
"""

from __future__ import annotations

import hmac
import secrets

__all__ = ["QUERY_CODE_ALPHABET", "QUERY_CODE_LENGTH", "new_query_code", "normalise_query_code", "same_code"]

QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 8


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


def normalise_query_code(typed: str) -> str:
    """What the applicant typed, as stored: upper case, without spaces or dashes (codes are printed in two
    groups of four, ``ABCD-EFGH``)."""
    return "".join(ch for ch in typed.upper() if ch not in " -\t")


def same_code(stored: str | None, typed: str) -> bool:
    if not stored:
        return False
    return hmac.compare_digest(stored.encode(), normalise_query_code(typed).encode())
