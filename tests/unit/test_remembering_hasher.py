"""The tests' remembering Argon2 hasher (tests/conftest.py) answers as the server's does."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from server.auth import passwords
from tests.conftest import RememberingHasher


def test_the_in_process_server_uses_it_with_the_servers_parameters() -> None:
    hasher = passwords._hasher
    assert isinstance(hasher, RememberingHasher)
    made = passwords.hash_password("remembered password")
    assert made.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert not passwords.needs_rehash(made)


def test_a_remembered_answer_is_the_real_one_match_or_mismatch() -> None:
    hasher = RememberingHasher(PasswordHasher())
    made = hasher.hash("right one")
    assert hasher.hash("right one") == made
    assert hasher.hash("other one") != made
    for _ in range(2):  # worked out, then remembered
        assert hasher.verify(made, "right one") is True
        with pytest.raises(VerifyMismatchError):
            hasher.verify(made, "wrong one")
    assert passwords.verify_password(passwords.hash_password("pw 1"), "pw 1")
    assert not passwords.verify_password(passwords.hash_password("pw 1"), "pw 2")
