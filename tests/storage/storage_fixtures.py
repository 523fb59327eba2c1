"""A small questionnaire covering every item kind, for the storage tests (inline, so the
storage tests do not depend on the YAML loader)."""

from __future__ import annotations

from typing import Any

from survey import Questionnaire

SOURCE_TEXT = "# inline test questionnaire\n"


def small_questionnaire(
    *, access: str = "open", revision: str = "rev-1", qid: str = "befragung"
) -> Questionnaire:
    return Questionnaire.model_validate(
        {
            "meta": {
                "id": qid,
                "version": "1",
                "title": {"de": "Befragung", "en": "Survey"},
                "languages": ["de", "en"],
                "access": access,
            },
            "scales": {
                "problem": {
                    "options": [
                        {"code": 1, "label": {"de": "kein Problem"}},
                        {"code": 2, "label": {"de": "kleines Problem"}},
                        {"code": 3, "label": {"de": "großes Problem"}},
                        {"code": 9, "label": {"de": "weiß nicht"}, "non_substantive": True},
                    ]
                }
            },
            "sections": [
                {
                    "id": "s1",
                    "title": {"de": "Teil 1"},
                    "items": [
                        {"kind": "info", "id": "consent", "label": {"de": "Datenschutz"}},
                        {
                            "kind": "single",
                            "id": "district",
                            "label": {"de": "Ortsteil"},
                            "options": [
                                {"code": "nord", "label": {"de": "Nord"}},
                                {"code": "sued", "label": {"de": "Süd"}},
                            ],
                        },
                        {
                            "kind": "battery",
                            "id": "problems",
                            "label": {"de": "Probleme"},
                            "scale": "problem",
                            "statements": [
                                {"id": "p_graffiti", "label": {"de": "Graffiti"}},
                                {"id": "p_litter", "label": {"de": "Müll"}},
                            ],
                        },
                        {
                            "kind": "multi",
                            "id": "places",
                            "label": {"de": "Orte"},
                            "options": [
                                {"code": 1, "label": {"de": "Bahnhof"}},
                                {"code": 2, "label": {"de": "Park"}},
                                {"code": 3, "label": {"de": "Markt"}},
                            ],
                        },
                    ],
                },
                {
                    "id": "s2",
                    "title": {"de": "Teil 2"},
                    "items": [
                        {
                            "kind": "number",
                            "id": "age",
                            "label": {"de": "Alter"},
                            "min": 14,
                            "max": 110,
                        },
                        {
                            "kind": "number",
                            "id": "hours",
                            "label": {"de": "Stunden"},
                            "integer": False,
                        },
                        {"kind": "yesno", "id": "victim", "label": {"de": "Opfer?"}},
                        {"kind": "date", "id": "when", "label": {"de": "Wann?"}},
                        {
                            "kind": "text",
                            "id": "remarks",
                            "label": {"de": "Anmerkungen"},
                            "max_length": 50,
                        },
                    ],
                },
            ],
            "revision": revision,
        }
    )


def full_answers() -> dict[str, Any]:
    return {
        "district": "nord",
        "p_graffiti": 3,
        "p_litter": 9,
        "places": [1, 3],
        "age": 78,
        "hours": 1.5,
        "victim": True,
        "when": "2026-10-03",
        "remarks": "Mehr Licht <bitte>",
    }
