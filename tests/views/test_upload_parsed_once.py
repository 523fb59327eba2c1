"""The data page reads an upload once (issue #12): the parse re-ran on every rerun of the
page, so a 52 MB CSV cost 24.6 s on every click."""

from __future__ import annotations

from typing import Any

import pytest

import views.data
from core import InvalidInput, Location, Problem
from storage import DatasetKind
from tests.fixtures import fixture_bytes


def test_an_upload_is_parsed_once_however_often_the_page_reruns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = views.data.read_incidents

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["filename"])
        return real(*args, **kwargs)

    monkeypatch.setattr(views.data, "read_incidents", counting)
    read: list[str] = []

    def content() -> bytes:
        read.append("read")
        return fixture_bytes("pks.csv")

    state: dict[Any, Any] = {}
    results = [
        views.data.parsed_upload(
            state, DatasetKind.INCIDENTS, "upload-1", "pks.csv", content, False
        )
        for _rerun in range(5)
    ]
    assert calls == ["pks.csv"]
    assert read == ["read"]  # the bytes are not even copied again
    assert all(r is results[0] for r in results)
    # A new file, or the other choice of skipping bad rows, is read again (once).
    views.data.parsed_upload(state, DatasetKind.INCIDENTS, "upload-2", "pks.csv", content, False)
    views.data.parsed_upload(state, DatasetKind.INCIDENTS, "upload-2", "pks.csv", content, True)
    views.data.parsed_upload(state, DatasetKind.INCIDENTS, "upload-2", "pks.csv", content, True)
    assert len(calls) == 3


def test_a_refused_upload_is_remembered_too(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        calls.append(1)
        raise InvalidInput([Problem(Location(file="bombe.xlsx"), "tables.too_large", {})])

    monkeypatch.setattr(views.data, "read_incidents", refuse)
    state: dict[Any, Any] = {}
    for _rerun in range(3):
        result = views.data.parsed_upload(
            state, DatasetKind.INCIDENTS, "u", "bombe.xlsx", lambda: b"PK", False
        )
        assert isinstance(result, InvalidInput)
    assert calls == [1]
