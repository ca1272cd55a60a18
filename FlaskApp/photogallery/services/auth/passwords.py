"""What a new password must be, after NIST SP 800-63B: long enough, not absurdly long, and not one
that attackers try first. No composition rules (they make passwords worse, not stronger).

The common passwords come from a list shipped in this folder (see common_passwords.LICENSE);
nothing is fetched at run time.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

from ...data.users import username_key
from ..errors import InvalidInput

MIN_LENGTH = 8
# 800-63B asks for at least 64; a bound at all keeps a megabyte "password" from reaching the hash.
MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
# Words of this site an attacker would try, as 800-63B's "context-specific words".
SITE_WORDS = ("photogallery", "photo gallery", "photos")
KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qazwsxedcrfvtgbyhnujmikolp")


def check_new_password(password: str, username: str) -> None:
    """Raise InvalidInput saying why, unless ``password`` is fit to be ``username``'s password."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"a password may have at most {MAX_LENGTH} characters")
    if reason := _why_guessable(password, username):
        raise InvalidInput(f"that password is too easy to guess: {reason}; please choose another")


def _why_guessable(password: str, username: str) -> str | None:
    folded = username_key(password)
    squeezed = "".join(folded.split())
    if not squeezed:
        return "it is only spaces"
    if len(set(squeezed)) == 1:
        return "it repeats one character"
    if _repeats_a_short_pattern(squeezed):
        return "it repeats a short pattern"
    if _is_a_run(squeezed):
        return "it is a run of characters like 12345678 or abcdefgh"
    if _on_one_keyboard_row(squeezed):
        return "it is a run of keys on a keyboard"
    name = username_key(username.strip())
    if name and name in folded:
        return "it contains the username"
    if folded in SITE_WORDS:
        return "it is the name of this site"
    if folded in _common_passwords() or squeezed in _common_passwords():
        return "it is on a list of the most common passwords"
    return None


def _repeats_a_short_pattern(text: str) -> bool:
    """abababab, abcabcab, 12341234: a unit of up to four characters, over and over."""
    return any(text == (text[:n] * (len(text) // n + 1))[: len(text)] for n in range(1, 5))


def _is_a_run(text: str) -> bool:
    """Each character one above (or each one below) the last: 12345678, abcdefgh, 98765432."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def _on_one_keyboard_row(text: str) -> bool:
    return any(text in row or text in row[::-1] for row in KEYBOARD_ROWS)


@functools.cache
def _common_passwords() -> frozenset[str]:
    """Read on first use (about 8,000 lines): starting a CLI command need not pay for it."""
    with open(COMMON_PASSWORDS, encoding="utf-8") as f:
        return frozenset(line.rstrip("\n") for line in f if line.strip())
