"""Saved incident and population datasets: what the manager uploaded, kept for the analysis.

An upload is first imported (:mod:`sources._tables`), shown as a preview with its row-level
problems, and only then saved here, whole, in one transaction. Each dataset keeps its source
file name, layout, years and row count so the data page can list it, and can be deleted.
"""

from __future__ import annotations

import gzip
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, select

from core import ImportResult, InvalidInput, Location, Problem
from storage._engine import municipality_scope
from storage._schema import datasets_table


class DatasetKind(StrEnum):
    INCIDENTS = "incidents"
    POPULATION = "population"


_PARTS = ("table", "margins", "derived_population")


@dataclass(frozen=True)
class DatasetSummary:
    id: str
    kind: DatasetKind
    source: str
    layout: str
    years: tuple[int, ...]
    row_count: int
    saved_on: date


@dataclass(frozen=True)
class Dataset:
    summary: DatasetSummary
    table: pd.DataFrame
    margins: pd.DataFrame | None
    derived_population: pd.DataFrame | None


class Datasets:
    """Saved datasets in the product database (tables created by the schema migrations).

    With ``municipality`` only that municipality's datasets are listed, loaded, combined or
    deleted, and saving needs it; without, every dataset is (the administration's view: a
    municipality's backup, adopting data from before municipalities).
    """

    def __init__(self, engine: Engine, municipality: str | None = None) -> None:
        self._engine = engine
        self.municipality = municipality

    def _mine(self, query: Any) -> Any:
        if self.municipality is None:
            return query
        return query.where(datasets_table.c.municipality == self.municipality)

    def save(self, kind: DatasetKind, result: ImportResult, *, source: str) -> DatasetSummary:
        """Store an imported table whole; returns what the data page lists."""
        years = tuple(sorted({int(y) for y in result.table["year"].dropna().unique()}))
        summary = DatasetSummary(
            id=secrets.token_hex(8),
            kind=kind,
            source=source[:255],
            layout=result.layout,
            years=years,
            row_count=len(result.table),
            saved_on=date.today(),
        )
        if self.municipality is None:
            raise InvalidInput(
                [
                    Problem(
                        Location(file=source, field="municipality"),
                        "storage.municipality_required",
                        {"id": source},
                    )
                ]
            )
        payload = _pack(
            {
                "table": result.table,
                "margins": result.margins,
                "derived_population": result.derived_population,
            }
        )
        with municipality_scope(self.municipality), self._engine.begin() as connection:
            connection.execute(
                datasets_table.insert().values(
                    municipality=self.municipality,
                    id=summary.id,
                    kind=summary.kind.value,
                    source=summary.source,
                    layout=summary.layout,
                    years=",".join(str(y) for y in years),
                    row_count=summary.row_count,
                    saved_on=summary.saved_on,
                    payload=payload,
                )
            )
        return summary

    def list(self, kind: DatasetKind | None = None) -> list[DatasetSummary]:
        query = select(
            datasets_table.c.id,
            datasets_table.c.kind,
            datasets_table.c.source,
            datasets_table.c.layout,
            datasets_table.c.years,
            datasets_table.c.row_count,
            datasets_table.c.saved_on,
        ).order_by(datasets_table.c.saved_on, datasets_table.c.source)
        if kind is not None:
            query = query.where(datasets_table.c.kind == kind.value)
        query = self._mine(query)
        with municipality_scope(self.municipality), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            DatasetSummary(
                id=row.id,
                kind=DatasetKind(row.kind),
                source=row.source,
                layout=row.layout,
                years=tuple(int(y) for y in row.years.split(",") if y),
                row_count=row.row_count,
                saved_on=row.saved_on,
            )
            for row in rows
        ]

    def load(self, dataset_id: str) -> Dataset:
        with municipality_scope(self.municipality), self._engine.connect() as connection:
            row = connection.execute(
                self._mine(select(datasets_table).where(datasets_table.c.id == dataset_id))
            ).one_or_none()
        if row is None:
            raise KeyError(dataset_id)
        parts = _unpack(row.payload)
        table = parts["table"]
        assert table is not None, "a saved dataset always has its table"
        summary = next(s for s in self.list() if s.id == dataset_id)
        return Dataset(summary, table, parts["margins"], parts["derived_population"])

    def delete(self, dataset_id: str) -> bool:
        with municipality_scope(self.municipality), self._engine.begin() as connection:
            result = connection.execute(
                self._mine(delete(datasets_table).where(datasets_table.c.id == dataset_id))
            )
        return bool(result.rowcount)

    def combined(
        self, kind: DatasetKind, *, where: Callable[[DatasetSummary], bool] | None = None
    ) -> Dataset | None:
        """All saved datasets of ``kind`` (those ``where`` accepts) as one.

        A later upload wins for the same cell (area, year and key).
        """
        summaries = [s for s in self.list(kind) if where is None or where(s)]
        if not summaries:
            return None
        loaded = [self.load(s.id) for s in summaries]
        table = _concat_latest([d.table for d in loaded], kind)
        margins = _concat_optional([d.margins for d in loaded])
        derived = _concat_optional([d.derived_population for d in loaded])
        years = tuple(sorted({y for s in summaries for y in s.years}))
        summary = DatasetSummary(
            id="+".join(s.id for s in summaries),
            kind=kind,
            source=", ".join(s.source for s in summaries),
            layout="+".join(sorted({s.layout for s in summaries})),
            years=years,
            row_count=len(table),
            saved_on=max(s.saved_on for s in summaries),
        )
        return Dataset(summary, table, margins, derived)


def _concat_latest(tables: list[pd.DataFrame], kind: DatasetKind) -> pd.DataFrame:
    table = pd.concat(tables, ignore_index=True)
    keys = ["area", "year", "key"] if kind is DatasetKind.INCIDENTS else ["area", "year"]
    keys = [k for k in keys if k in table.columns]
    return table.drop_duplicates(subset=keys, keep="last").reset_index(drop=True)


def _concat_optional(tables: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    present = [t for t in tables if t is not None and not t.empty]
    return pd.concat(present, ignore_index=True) if present else None


def _pack(parts: dict[str, pd.DataFrame | None]) -> bytes:
    buffer = io.StringIO()
    frames = {name: frame for name, frame in parts.items() if frame is not None}
    # One JSON document per part, "name\tjson" per line: dtypes are restored on load.
    for name, frame in frames.items():
        buffer.write(name + "\t" + frame.to_json(orient="table", index=False) + "\n")
    return gzip.compress(buffer.getvalue().encode("utf-8"))


def _unpack(payload: bytes) -> dict[str, pd.DataFrame | None]:
    parts: dict[str, pd.DataFrame | None] = dict.fromkeys(_PARTS)
    for line in gzip.decompress(payload).decode("utf-8").splitlines():
        name, document = line.split("\t", 1)
        frame = pd.read_json(io.StringIO(document), orient="table")
        for column in ("area", "key", "area_name", "sex", "age_group"):
            if column in frame.columns:
                frame[column] = frame[column].astype("string")
        parts[name] = frame
    return parts
