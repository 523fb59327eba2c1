"""Which area contains which: official keys (AGS) nest by prefix, and the Länder are also
known by name, so a table that writes "Sachsen" instead of "14" still contains Leipzig.

A Kreis key (``14713``) is a prefix of its Gemeinden (``14713000``) and of districts keyed
below them (``14713000-01``); a Land's two digits are a prefix of all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: The Länder by name, as the BKA and the statistical offices write them, with their key.
LAND_KEYS: Mapping[str, str] = {
    "schleswig-holstein": "01",
    "hamburg": "02",
    "niedersachsen": "03",
    "bremen": "04",
    "nordrhein-westfalen": "05",
    "hessen": "06",
    "rheinland-pfalz": "07",
    "baden-württemberg": "08",
    "bayern": "09",
    "saarland": "10",
    "berlin": "11",
    "brandenburg": "12",
    "mecklenburg-vorpommern": "13",
    "sachsen": "14",
    "sachsen-anhalt": "15",
    "thüringen": "16",
}
#: Names of the whole country: a prefix of every key.
COUNTRY_NAMES: frozenset[str] = frozenset(
    {"deutschland", "bundesgebiet", "bundesrepublik deutschland", "germany"}
)


def _normalised_name(text: str) -> str:
    name = " ".join(text.strip().lower().replace("freistaat ", "").split())
    return name.replace("ue", "ü") if name in {"thueringen", "baden-wuerttemberg"} else name


def area_prefix(key: str, name: str | None = None) -> str | None:
    """The key prefix an area stands for: its own key if it is all digits, a Land's key if it
    is (or is named as) a Land, ``""`` for the whole country, ``None`` if unknown."""
    if key.isdigit():
        return key
    for text in (key, name or ""):
        normalised = _normalised_name(text)
        if normalised in LAND_KEYS:
            return LAND_KEYS[normalised]
        if normalised in COUNTRY_NAMES:
            return ""
    return None


def contains(outer: str, inner: str, names: Mapping[str, str] | None = None) -> bool:
    """Whether area ``outer`` contains area ``inner`` (never itself)."""
    if outer == inner:
        return False
    known = names or {}
    prefix = area_prefix(outer, known.get(outer))
    if prefix is None:
        return False
    inner_key = inner if inner[:1].isdigit() else area_prefix(inner, known.get(inner))
    if inner_key is None:
        return False
    return inner_key.startswith(prefix) and len(inner_key) > len(prefix)


def outermost(areas: Iterable[str], names: Mapping[str, str] | None = None) -> set[str]:
    """The areas no other listed area contains."""
    unique = set(areas)
    return {a for a in unique if not any(contains(o, a, names) for o in unique)}


def innermost(areas: Iterable[str], names: Mapping[str, str] | None = None) -> set[str]:
    """The areas that contain no other listed area."""
    unique = set(areas)
    return {a for a in unique if not any(contains(a, i, names) for i in unique)}


def area_label(key: str, names: Mapping[str, str] | None = None) -> str:
    """What to call an area in a sentence: its name from the data, a Land's name for a Land
    key ("14" → "Sachsen"), else the key itself."""
    known = (names or {}).get(key)
    if known:
        return known
    for name, land_key in LAND_KEYS.items():
        if key == land_key:
            return "-".join(part.capitalize() for part in name.split("-"))
    return key
