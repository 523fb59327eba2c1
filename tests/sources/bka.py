"""Write incident counts as a BKA PKS table, in the layout the BKA publishes its CSV tables.

Layout (e.g. "PKS 2023 – T01 Grundtabelle – Kreise – Fälle", CSV): Windows-1252/Latin-1,
``;``-separated, title lines, a row of column numbers, the header, one row per key × area,
``,`` as thousands separator and ``.`` as decimal mark (``4,444,108``; ``7,268.70``), and a
source note below the table. Columns other than key, offence, area, cases and HZ are filled with
plausible values; importers ignore them. With several years a ``Jahr`` column is added (as in
the BKA time-series tables), otherwise the year is only in the title.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: Offence names of the keys the catalogue uses (PKS Straftatenkatalog).
OFFENCES = {
    "------": "Straftaten insgesamt",
    "000000": "Straftaten insgesamt",
    "****00": "Diebstahl insgesamt",
    "435*00": "Wohnungseinbruchdiebstahl §§ 244 Abs. 1 Nr. 3 und Abs. 4 StGB",
    "674000": "Sachbeschädigung §§ 303-305a StGB",
    "899500": "Graffiti",
    "892000": "Gewaltkriminalität",
    "224000": "Vorsätzliche einfache Körperverletzung § 223 StGB",
    "730000": "Rauschgiftdelikte (soweit nicht bereits mit anderer Schlüsselzahl erfasst)",
    "640000": "Brandstiftung und Herbeiführen einer Brandgefahr §§ 306-306d, 306f StGB",
}

HEADER = [
    "Schlüssel",
    "Straftat",
    "Gemeindeschlüssel",
    "Stadt-/Landkreis",
    "Kreisart",
    "erfasste Fälle",
    "HZ nach Zensus",
    "Versuche - Anzahl",
    "Versuche - Anteil in %",
    "mit Schusswaffe gedroht",
    "mit Schusswaffe geschossen",
    "aufgeklärte Fälle",
    "Aufklärungsquote",
    "Tatverdächtige insgesamt",
    "Tatverdächtige - männlich",
    "Tatverdächtige - weiblich",
    "Nichtdeutsche Tatverdächtige - Anzahl",
    "Nichtdeutsche Tatverdächtige - Anteil in %",
]


def thousands(value: int, sep: str = ",") -> str:
    return f"{value:,}".replace(",", sep)


def decimal(value: float, *, sep: str = ",", mark: str = ".") -> str:
    text = f"{value:,.2f}"  # "7,268.70"
    return text.replace(",", "\0").replace(".", mark).replace("\0", sep)


def bka_lines(
    incidents: pd.DataFrame,
    population: pd.DataFrame,
    *,
    german_numbers: bool = False,
    kreisart: dict[str, str] | None = None,
) -> list[list[str]]:
    """The rows of a BKA table (title, column numbers, header, data, note) as text cells.

    ``incidents`` has ``area, area_name, year, key, count``; ``population`` has ``area, year,
    population`` and gives the HZ (cases × 100,000 / population). ``german_numbers`` writes
    ``4.444.108`` and ``7.268,70`` instead of the BKA's ``4,444,108`` and ``7,268.70``.
    """
    sep, mark = (".", ",") if german_numbers else (",", ".")
    years = sorted(incidents["year"].unique())
    with_year = len(years) > 1
    header = [*HEADER[:5], *(["Jahr"] if with_year else []), *HEADER[5:]]
    pop = population.set_index(["area", "year"])["population"]
    title = f"Polizeiliche Kriminalstatistik (PKS) {years[0]}" if not with_year else "PKS Zeitreihe"
    rows: list[list[str]] = [
        [title],
        ["T01 Grundtabelle - Kreise - Fälle mit Häufigkeitszahl (HZ) (V1.0)"],
        [str(i) for i in range(1, len(header) + 1)],
        header,
    ]
    for record in incidents.itertuples(index=False):
        count = int(record.count)
        inhabitants = pop.get((record.area, record.year))
        hz = decimal(count * 100_000 / inhabitants, sep=sep, mark=mark) if inhabitants else "-"
        solved = count * 6 // 10
        suspects = max(solved * 8 // 10, 0)
        kind = (kreisart or {}).get(str(record.area), "Kreis")
        cells = [
            str(record.key),
            OFFENCES.get(str(record.key), f"Straftat {record.key}"),
            str(record.area),
            str(record.area_name),
            kind,
            *([str(record.year)] if with_year else []),
            thousands(count, sep),
            hz,
            thousands(count // 20, sep),
            decimal(5.0, sep=sep, mark=mark),
            "0",
            "0",
            thousands(solved, sep),
            decimal(60.0, sep=sep, mark=mark),
            thousands(suspects, sep),
            thousands(suspects * 3 // 4, sep),
            thousands(suspects - suspects * 3 // 4, sep),
            thousands(suspects // 5, sep),
            decimal(20.0, sep=sep, mark=mark),
        ]
        rows.append(cells)
    rows.append(["Quelle: Bundeskriminalamt, Polizeiliche Kriminalstatistik"])
    return rows


def write_bka_table(
    path: Path,
    incidents: pd.DataFrame,
    population: pd.DataFrame,
    *,
    german_numbers: bool = False,
    encoding: str = "cp1252",
    kreisart: dict[str, str] | None = None,
) -> Path:
    """Write ``incidents`` to ``path`` as a published BKA PKS CSV table (see module doc)."""
    lines = bka_lines(incidents, population, german_numbers=german_numbers, kreisart=kreisart)
    text = "\r\n".join(";".join(cells) for cells in lines) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path
