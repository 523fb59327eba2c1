"""Access code format, entropy and normalisation of typed input."""

from __future__ import annotations

import math
import re

import pytest

from survey import CODE_ALPHABET, CODE_BITS, format_code, generate_code, keyed_hash, normalise_code

AMBIGUOUS = set("0O1IL")


def test_codes_are_grouped_for_typing() -> None:
    for _ in range(200):
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", generate_code())


def test_the_alphabet_has_no_look_alikes_and_enough_entropy() -> None:
    assert not AMBIGUOUS & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET)
    assert CODE_BITS >= 50
    assert math.isclose(CODE_BITS, 12 * math.log2(len(CODE_ALPHABET)))


def test_codes_use_the_whole_alphabet_and_do_not_repeat() -> None:
    codes = [generate_code() for _ in range(5_000)]
    assert len(set(codes)) == len(codes)
    seen = set("".join(codes).replace("-", ""))
    assert seen == set(CODE_ALPHABET)


@pytest.mark.parametrize(
    "typed",
    ["K7QM-P3XA-9TFD", "k7qm-p3xa-9tfd", "K7QMP3XA9TFD", " k7qm p3xa 9tfd ", "K7QM–P3XA–9TFD"],
)
def test_typed_input_is_normalised(typed: str) -> None:
    assert normalise_code(typed) == "K7QMP3XA9TFD"
    assert format_code("K7QMP3XA9TFD") == "K7QM-P3XA-9TFD"


@pytest.mark.parametrize(
    "typed", ["", "K7QM-P3XA-9TF", "K7QM-P3XA-9TFDX", "K7QM-P3XA-9TF0", "K7QM-P3XA-9TFO", "ÄÖÜ"]
)
def test_impossible_input_is_not_a_code(typed: str) -> None:
    assert normalise_code(typed) is None


def test_hashes_depend_on_the_key() -> None:
    assert keyed_hash(b"a", "q", "CODE") != keyed_hash(b"b", "q", "CODE")
    assert keyed_hash(b"a", "q", "CODE") != keyed_hash(b"a", "r", "CODE")
    assert len(keyed_hash(b"a", "q", "CODE")) == 64
