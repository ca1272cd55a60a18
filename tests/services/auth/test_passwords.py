"""The password policy (after NIST SP 800-63B): length, common and trivial passwords, the name."""

import pytest

from photogallery.services.auth import passwords
from photogallery.services.errors import InvalidInput


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short12", "at least 8 characters"),
        ("x" * 257, "at most 256 characters"),
        ("password", "most common passwords"),
        ("PassWord", "most common passwords"),
        ("password1", "most common passwords"),
        ("iloveyou", "most common passwords"),
        ("sunshine", "most common passwords"),
        ("12345678", "a run of characters"),
        ("abcdefgh", "a run of characters"),
        ("98765432", "a run of characters"),
        ("qwertyui", "a run of keys"),
        ("        ", "only spaces"),
        ("\t \t \t \t \n", "only spaces"),
        ("aaaaaaaa", "repeats one character"),
        ("zzzz  zzzz", "repeats one character"),
        ("abababab", "repeats a short pattern"),
        ("abcdabcdabcd", "repeats a short pattern"),
        ("alice-the-photographer", "contains the username"),
        ("AliceAlice", "contains the username"),
        ("photogallery", "name of this site"),
    ],
)
def test_weak_passwords_are_refused_saying_why(password, reason):
    with pytest.raises(InvalidInput) as refused:
        passwords.check_new_password(password, "alice")
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "Tr0ub4dor&3 xyz",
        "the café on rue 7",
        "日本語のパスワードです",
        "x" * 255 + "y",  # 256 characters: the longest allowed
        "abcdefgx",  # a run broken at the end
    ],
)
def test_ordinary_passwords_are_accepted(password):
    passwords.check_new_password(password, "alice")


def test_a_megabyte_password_is_refused_before_any_other_work():
    with pytest.raises(InvalidInput, match="at most 256"):
        passwords.check_new_password("correct horse " * 80_000, "alice")


def test_the_common_password_list_ships_with_the_package():
    common = passwords._common_passwords()
    assert 8000 <= len(common) <= 10_000
    assert all(len(p) >= passwords.MIN_LENGTH and p == p.lower() for p in common)
    assert {"password", "12345678", "qwertyuiop"} <= common
