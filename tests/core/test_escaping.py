from __future__ import annotations

from core import remove_illegal_text


def test_illegal_text_is_removed_and_everything_a_person_types_stays() -> None:
    typed = "a\uffffb\x01c\ud800d\U0001fffee\tf\u00e4\U0010ffff\n\u20ac\u201e\u201c\x85g\ufdd0"
    assert remove_illegal_text(typed) == "abcde\tfä\n€„“g"
