"""The questionnaire and action-field loader: YAML 1.2 values, positions, every class of bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import InvalidInput
from survey import (
    ACTION_FIELDS_ENV_VAR,
    ActionFieldCatalogue,
    MultiChoiceItem,
    SingleChoiceItem,
    check_action_fields,
    check_questionnaire,
    check_questionnaire_text,
    default_action_fields_path,
    is_action_field_catalogue,
    iter_problem_lines,
    load_action_fields,
    load_questionnaire,
    load_questionnaire_text,
    render_path,
    revision_of,
)
from tests.conftest import ACTION_FIELDS, DEFAULT_QUESTIONNAIRE

VALID = """\
meta:
  id: test
  version: "1"
  title: {de: Test, en: Test}
  languages: [de, en]
scales:
  agree:
    options:
      - {code: 1, label: {de: nein, en: "no"}}
      - {code: 2, label: {de: ja, en: "yes"}}
      - {code: 9, label: {de: weiß nicht, en: don't know}, non_substantive: true}
sections:
  - id: s1
    title: {de: Teil 1, en: Part 1}
    items:
      - id: district
        kind: single
        design: district
        label: {de: Stadtteil, en: District}
        options:
          - {code: 0012, label: {de: Nord, en: North}}
          - {code: "0013", label: {de: Yes, en: on}}
      - id: age
        kind: number
        label: {de: Alter, en: Age}
        validate:
          - expr: ". >= 0 and . <= 120"
            message: {de: 0 bis 120, en: 0 to 120}
      - id: measures
        kind: multi
        scale: agree
        label: {de: Maßnahmen, en: Measures}
        tags: [{field: graffiti, role: measure_wish}]
      - id: avoid
        kind: yesno
        label: {de: Gemieden?, en: Avoided?}
      - id: since
        kind: date
        label: {de: Seit wann?, en: Since when?}
      - id: why
        kind: text
        label: {de: Warum?, en: Why?}
        show_if: "avoid == true and selected(measures, 2) and since > date('2020-01-01')"
      - id: worry
        kind: battery
        scale: agree
        label: {de: Sorgen, en: Worries}
        show_if: "count_selected(measures) >= 1 or district == '0012'"
        statements:
          - {id: worry_theft, label: {de: Diebstahl, en: Theft}, tags: [{field: diebstahl, role: worry}]}
          - {id: worry_fire, label: {de: Brand, en: Fire}, show_if: "answered(why)"}
"""


def _check(text: str, filename: str = "q.yaml") -> list[str]:
    return list(iter_problem_lines(check_questionnaire_text(text, filename).problems, "en"))


def _broken(old: str, new: str) -> list[str]:
    assert old in VALID
    return _check(VALID.replace(old, new, 1))


def test_a_valid_questionnaire_loads_without_problems() -> None:
    result = check_questionnaire_text(VALID, "q.yaml")
    assert result.problems == ()
    assert result.ok
    questionnaire = load_questionnaire_text(VALID)
    assert [v.id for v in questionnaire.variables()][:4] == [
        "district",
        "age",
        "measures__1",
        "measures__2",
    ]


def test_yaml_1_2_keeps_yes_on_and_leading_zero_codes_as_text() -> None:
    questionnaire = load_questionnaire_text(VALID)
    district = questionnaire.item("district")
    assert isinstance(district, SingleChoiceItem)
    assert district.options is not None
    assert [o.code for o in district.options] == ["0012", "0013"]
    assert district.options[1].label == {"de": "Yes", "en": "on"}
    measures = questionnaire.item("measures")
    assert isinstance(measures, MultiChoiceItem)
    assert questionnaire.scale_of(measures).substantive_codes() == [1, 2]


def test_revision_is_a_content_hash_that_ignores_line_ends_and_trailing_blanks() -> None:
    questionnaire = load_questionnaire_text(VALID)
    assert re.fullmatch(r"[0-9a-f]{16}", questionnaire.revision)
    assert questionnaire.revision == revision_of(VALID)
    assert revision_of(VALID.replace("\n", "  \r\n")) == questionnaire.revision
    changed = load_questionnaire_text(VALID.replace('version: "1"', 'version: "2"'))
    assert changed.revision != questionnaire.revision


def test_every_problem_comes_out_at_once_with_line_column_and_path() -> None:
    lines = _check(
        VALID.replace("kind: number", "kind: number\n        integer: yes", 1)
        .replace(
            "scale: agree\n        label: {de: Maßnahmen",
            "scale: agre\n        label: {de: Maßnahmen",
            1,
        )
        .replace('show_if: "avoid == true', 'show_if: "avoid == 1', 1)
    )
    assert len(lines) == 3, lines
    assert lines[0].startswith("q.yaml:25:18: error: sections[0].items[1].integer: ")
    assert lines[1].startswith("q.yaml:32:16: error: sections[0].items[2].scale: unknown scale")
    # The expression problem points into the expression text, after the opening quote.
    assert lines[2].startswith("q.yaml:44:25: error: sections[0].items[5].show_if: The types")


def test_shape_errors_do_not_hide_cross_reference_errors_elsewhere() -> None:
    text = VALID.replace(
        "      - id: avoid\n", "      - id: avoid\n        colour: red\n", 1
    ).replace("tags: [{field: graffiti,", "tags: [{field: nothing,", 1)
    lines = _check(text)
    assert any("unknown key 'colour'" in line for line in lines)
    assert any("unknown action field 'nothing'" in line for line in lines)
    # avoid is malformed, so "avoid == true" later is not reported a second time.
    assert not any("avoid" in line and "Unknown item id" in line for line in lines)


def test_missing_translation_is_a_warning_and_falls_back_to_the_default_language() -> None:
    result = check_questionnaire_text(
        VALID.replace("label: {de: Alter, en: Age}", "label: {de: Alter}"), "q.yaml"
    )
    assert result.ok
    assert len(result.warnings) == 1
    (line,) = iter_problem_lines(result.warnings, "en")
    assert line.startswith("q.yaml:25:16: warning: sections[0].items[1].label: translation 'en'")
    assert result.questionnaire is not None
    assert result.questionnaire.text(result.questionnaire.item("age").label, "en") == "Alter"


def test_a_language_that_is_not_declared_is_a_warning() -> None:
    result = check_questionnaire_text(
        VALID.replace("label: {de: Alter, en: Age}", "label: {de: Alter, en: Age, pl: Wiek}"),
        "q.yaml",
    )
    assert result.ok
    assert [p.key for p in result.warnings] == ["questionnaire.undeclared_language"]


def test_load_raises_invalid_input_with_all_problems() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_questionnaire_text(
            VALID.replace("id: age", "id: AND", 1).replace("id: why", "id: Age")
        )
    keys = [p.key for p in caught.value.problems]
    assert "questionnaire.id_reserved" in keys
    assert "questionnaire.self_reference_validate" not in keys


def test_a_top_level_list_is_reported_not_raised() -> None:
    lines = _check("- a\n- b\n")
    assert lines == [
        'q.yaml:1:1: error: found ["a", "b"]; expected entries of the form \'key: value\''
    ]


def test_revision_in_the_file_is_an_unknown_key() -> None:
    lines = _check(VALID + "revision: abc\n")
    assert len(lines) == 1
    assert "unknown key 'revision'" in lines[0]


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (
            'show_if: "count_selected',
            'show_if: "count_selected(age) >= 1 or count_selected',
            "count_selected",
        ),
        ('show_if: "avoid == true', "show_if: \"since == 'x'", "date"),
        ('show_if: "avoid == true', 'show_if: "selected(measures, 7) and avoid == true', "Code 7"),
    ],
)
def test_expressions_are_checked_against_the_types_of_earlier_items(
    old: str, new: str, fragment: str
) -> None:
    lines = _broken(old, new)
    assert len(lines) == 1, lines
    assert fragment in lines[0]


def test_a_statement_cannot_refer_to_its_own_battery() -> None:
    lines = _broken('show_if: "answered(why)"', 'show_if: "worry_theft == 1"')
    assert len(lines) == 1
    assert "circular reference: 'worry_theft'" in lines[0]


def test_codes_in_a_block_scalar_expression_are_located_in_the_block() -> None:
    lines = _broken(
        "        show_if: \"count_selected(measures) >= 1 or district == '0012'\"\n",
        "        show_if: >\n          count_selected(measures) >= 1\n          or nothing == 1\n",
    )
    assert len(lines) == 1
    assert lines[0].startswith("q.yaml:50:14: error: sections[0].items[6].show_if: ")


def test_missing_file_directory_and_bad_encoding(tmp_path: Path) -> None:
    assert [p.key for p in check_questionnaire(tmp_path / "nope.yaml").problems] == [
        "questionnaire.file_not_found"
    ]
    assert [p.key for p in check_questionnaire(tmp_path).problems] == ["questionnaire.is_directory"]
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("meta:\n  id: gr\xf6\xdfe\n".encode("latin-1"))
    (problem,) = check_questionnaire(latin).problems
    assert (problem.key, problem.location.line, problem.location.column) == (
        "questionnaire.not_utf8",
        2,
        9,
    )


def test_render_path() -> None:
    assert render_path(("sections", 2, "items", 4, "show_if")) == "sections[2].items[4].show_if"
    assert render_path(()) == ""


# --- the default questionnaire and the action-field catalogue ----------------------------------


def test_the_default_questionnaire_loads_without_errors_or_warnings() -> None:
    result = check_questionnaire(DEFAULT_QUESTIONNAIRE)
    assert list(iter_problem_lines(result.problems, "en")) == []
    assert load_questionnaire(DEFAULT_QUESTIONNAIRE).revision


def test_the_default_catalogue_is_found_and_has_the_eight_fields() -> None:
    assert default_action_fields_path().resolve() == ACTION_FIELDS.resolve()
    catalogue = load_action_fields()
    assert catalogue.ids() == [
        "graffiti",
        "sachbeschaedigung",
        "vermuellung",
        "gewalt",
        "extremismus",
        "drogen",
        "diebstahl",
        "brandstiftung",
    ]
    assert catalogue.get("sachbeschaedigung").pks_subtract == ["899500"]
    assert is_action_field_catalogue(ACTION_FIELDS)
    assert not is_action_field_catalogue(DEFAULT_QUESTIONNAIRE)


def test_tags_are_checked_against_a_given_catalogue() -> None:
    small = ActionFieldCatalogue.model_validate(
        {"fields": [{"id": "graffiti", "label": {"de": "Graffiti", "en": "Graffiti"}}]}
    )
    result = check_questionnaire_text(VALID, "q.yaml", catalogue=small)
    assert [p.params["found"] for p in result.errors] == ["diebstahl"]


def test_the_catalogue_path_can_be_overridden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "fields.yaml"
    other.write_text(
        "fields:\n  - id: laerm\n    label: {de: Lärm, en: Noise}\n    source_keys: [ordnungsamt]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(ACTION_FIELDS_ENV_VAR, str(other))
    assert default_action_fields_path() == other
    assert load_action_fields().ids() == ["laerm"]
    lines = _check(VALID)
    assert any("unknown action field 'graffiti'; defined: laerm" in line for line in lines)


CATALOGUE = """\
fields:
  - id: graffiti
    label: {de: Graffiti, en: Graffiti}
    pks_keys: ["899500"]
  - id: gewalt
    label: {de: Gewalt, en: Violence}
    pks_keys: [892000]
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "key"),
    [
        ("  - id: gewalt", "  - id: graffiti", 5, "questionnaire.duplicate_id"),
        ("{de: Gewalt, en: Violence}", "{de: Gewalt}", 6, "questionnaire.catalogue_label_missing"),
        ("[892000]", "[89200x]", 7, "questionnaire.invalid_value"),
        ("pks_keys: [892000]", "pks_key: [892000]", 7, "questionnaire.unknown_key"),
        ("  - id: gewalt", "  - id: Gewalt", 5, "questionnaire.pattern"),
        ("fields:", "fields: [", 2, "questionnaire.yaml_syntax"),
    ],
)
def test_bad_catalogues_are_reported_with_their_line(
    tmp_path: Path, old: str, new: str, line: int, key: str
) -> None:
    target = tmp_path / "action_fields.yaml"
    target.write_text(CATALOGUE.replace(old, new, 1), encoding="utf-8")
    catalogue, problems = check_action_fields(target)
    assert catalogue is None
    assert [(p.key, p.location.line) for p in problems] == [(key, line)]
    with pytest.raises(InvalidInput):
        load_action_fields(target)


def test_a_good_catalogue_with_numeric_keys_loads(tmp_path: Path) -> None:
    target = tmp_path / "action_fields.yaml"
    target.write_text(CATALOGUE, encoding="utf-8")
    catalogue, problems = check_action_fields(target)
    assert problems == []
    assert catalogue is not None
    assert catalogue.get("gewalt").pks_keys == ["892000"]


def test_a_missing_catalogue_is_reported(tmp_path: Path) -> None:
    catalogue, problems = check_action_fields(tmp_path / "none.yaml")
    assert catalogue is None
    assert [p.key for p in problems] == ["questionnaire.file_not_found"]


def test_the_example_in_the_format_reference_loads_cleanly() -> None:
    doc = (DEFAULT_QUESTIONNAIRE.parent.parent / "docs" / "questionnaire-format.md").read_text(
        encoding="utf-8"
    )
    example = doc.split("## A complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    result = check_questionnaire_text(example, "example.yaml")
    assert list(iter_problem_lines(result.problems, "en")) == []
    assert result.questionnaire is not None
    assert [v.id for v in result.questionnaire.variables()][-3:] == [
        "measures__1",
        "measures__2",
        "first_step",
    ]


def test_anchors_and_merge_keys_are_honoured() -> None:
    text = VALID.replace(
        'meta:\n  id: test\n  version: "1"\n',
        'meta:\n  <<: {id: test, version: "0"}\n  version: "1"\n',
        1,
    ).replace("title: {de: Teil 1, en: Part 1}", "title: &part {de: Teil 1, en: Part 1}", 1)
    text = text.replace("label: {de: Sorgen, en: Worries}", "label: *part", 1)
    questionnaire = load_questionnaire_text(text)
    assert (questionnaire.meta.id, questionnaire.meta.version) == ("test", "1")
    assert questionnaire.item("worry").label == {"de": "Teil 1", "en": "Part 1"}


def test_exponential_aliases_are_stopped() -> None:
    rows = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    (problem,) = check_questionnaire_text("\n".join(rows) + "\n").problems
    assert problem.key == "questionnaire.too_large"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = check_questionnaire_text(text, "fuzz.yaml")
    assert result.ok or result.errors


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_questionnaires_never_raise_and_every_problem_has_a_line(
    data: st.DataObject,
) -> None:
    lines = VALID.split("\n")
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "indent", "char"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "indent":
            lines[i] = "  " + lines[i]
        elif lines[i]:
            j = data.draw(st.integers(0, len(lines[i]) - 1))
            char = data.draw(st.sampled_from(list("x1 :-[]{}'\".,#&*!|>")))
            lines[i] = lines[i][:j] + char + lines[i][j + 1 :]
    result = check_questionnaire_text("\n".join(lines), "fuzz.yaml")
    for problem in result.problems:
        assert problem.location.line is not None
        problem.render("en")


@pytest.mark.parametrize(
    ("written", "line", "column"),
    [
        ('"avoid == true and nothing"', 48, 37),
        ("avoid == true and nothing", 48, 36),
        ('"why == \\"a\\" and nothing"', 48, 36),
        ("'why == ''a'' and nothing'", 48, 36),
        ('"avoid == true\n          and nothing"', 49, 15),
        ("avoid == true\n          and nothing", 49, 15),
    ],
)
def test_expression_problems_point_at_the_character_in_any_scalar_style(
    written: str, line: int, column: int
) -> None:
    old = "show_if: \"count_selected(measures) >= 1 or district == '0012'\""
    (problem,) = check_questionnaire_text(VALID.replace(old, f"show_if: {written}", 1)).problems
    assert problem.params["name"] == "nothing"
    assert (problem.location.line, problem.location.column) == (line, column)


def test_a_list_that_is_too_short_is_counted_in_words() -> None:
    text = (
        "meta: {id: q, version: '1', title: {de: T}}\n"
        "sections:\n"
        "  - {id: s, title: {de: S}, items: []}\n"
    )
    problems = check_questionnaire_text(text, "q.yaml").problems
    messages = [p.message("de") for p in problems if p.key == "questionnaire.too_short"]
    assert messages == ["braucht mindestens 1 Eintrag"]
    english = [p.message("en") for p in problems if p.key == "questionnaire.too_short"]
    assert english == ["needs at least 1 entry"]
