"""Town A's manager probes every page, download, store call and CLI command for town B's data
(its questionnaire titles and ids, a unique free-text answer, its dataset's name, its code
batch): nothing may come back. Row-level security on PostgreSQL: tests/security/test_rls.py.
"""

from __future__ import annotations

import gc
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyreadstat
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from app import Workspace
from cli import app as cli_app
from core import InvalidInput
from storage import DATABASE_URL_ENV_VAR, Backups, Datasets, Municipalities, Store
from tests.conftest import ROOT
from tests.fixtures import TEST_AGS, TEST_MANAGER
from tests.security._towns import B_DRAFT_ID, B_OPEN_ID, B_RESPONSES, TOWN_B, Towns, seed_towns
from views._session import MANAGER_KEY, QUESTIONNAIRE_KEY, Manager

TIMEOUT = 240
MANAGER_PAGES = (
    "overview",
    "data",
    "paper_entry",
    "paper_scans",
    "priorities",
    "findings",
    "exports",
    "municipalities",
)


@pytest.fixture(scope="module")
def towns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Towns]:
    url = f"sqlite:///{tmp_path_factory.mktemp('towns') / 'land.db'}"
    seeded = seed_towns(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATABASE_URL_ENV_VAR, url)
        yield seeded


def _download_bytes(button: Any) -> bytes:
    """A download button's file as the browser would get it; a deferred file is made as the
    server's media thread makes it (outside the session)."""
    proto = button.proto
    file_id = proto.deferred_file_id or proto.url.rsplit("/", 1)[-1].split(".", 1)[0]
    for media in (o for o in gc.get_objects() if isinstance(o, MediaFileManager)):
        if proto.deferred_file_id in media._deferred_callables:
            data = media._deferred_callables[file_id]["callable"]()
            return data if isinstance(data, bytes) else str(data).encode("utf-8")
        if not proto.deferred_file_id:
            try:
                storage = media._storage
                assert isinstance(storage, MemoryMediaFileStorage)
                return bytes(storage.get_file(file_id).content)
            except Exception:  # another AppTest's media store
                continue
    raise AssertionError(f"no file behind download button {button.key}")


def _readable(data: bytes, tmp_path: Path) -> str:
    """The text inside a downloaded file: zip members (XLSX, DOCX) unpacked, SPSS read."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    if data[:4] == b"$FL2":
        path = tmp_path / "file.sav"
        path.write_bytes(data)
        frame, meta = pyreadstat.read_sav(str(path))
        return frame.to_csv() + repr(meta.__dict__)
    return data.decode("utf-8", "replace")


def _everything(at: AppTest, tmp_path: Path) -> str:
    """Every element's content (text, tables, options, files) of a page run."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    parts += [frame.value.to_csv() for frame in at.dataframe]
    parts += [_readable(_download_bytes(b), tmp_path) for b in at.download_button]
    return "\n".join(parts)


def _page(module: str, manager: Manager, **state: Any) -> AppTest:
    at = AppTest.from_string(f"from views import {module}\n{module}.render()\n")
    at.default_timeout = TIMEOUT
    at.session_state[MANAGER_KEY] = manager
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _assert_clean(text: str, towns: Towns, where: str) -> None:
    found = [marker for marker in towns.markers if marker.lower() in text.lower()]
    assert not found, f"{where} shows town B's {found}"


@pytest.mark.parametrize("module", MANAGER_PAGES)
def test_no_manager_page_or_download_of_town_a_shows_town_b(
    towns: Towns, module: str, tmp_path: Path
) -> None:
    # Even with town B's questionnaire id planted as the remembered choice.
    at = _page(module, Manager(TEST_MANAGER, "local"), **{QUESTIONNAIRE_KEY: B_OPEN_ID})
    text = _everything(at, tmp_path)
    _assert_clean(text, towns, f"page {module}")
    if module not in ("municipalities",):
        assert "sicherheitsbefragung" in text or module == "data", "town A's data is shown"


def test_the_pages_do_show_town_b_to_its_own_manager(towns: Towns, tmp_path: Path) -> None:
    """The probe finds B's data where it belongs (so its silence above means something)."""
    at = _page("overview", Manager("bernd", "local"))
    assert "QXZ" in _everything(at, tmp_path)
    data = _page("data", Manager("bernd", "local"))
    assert "bstadt-QXZ-pks.csv" in _everything(data, tmp_path)


def test_a_manager_without_a_municipality_sees_no_data(towns: Towns, tmp_path: Path) -> None:
    at = _page("overview", Manager("nobody", "local"))
    text = _everything(at, tmp_path)
    _assert_clean(text, towns, "overview of a manager without municipality")
    assert "sicherheitsbefragung" not in text
    assert at.warning


def test_the_administrators_page_is_refused_to_a_manager(towns: Towns) -> None:
    at = _page("municipalities", Manager(TEST_MANAGER, "local"))
    assert at.error
    assert not at.dataframe


def test_town_a_store_treats_every_id_of_town_b_as_unknown(towns: Towns) -> None:
    with Store(towns.url) as base:
        a = base.for_municipality(TEST_AGS)
        assert {r.id for r in a.questionnaires()} == {"sicherheitsbefragung"}
        for qid in (B_OPEN_ID, B_DRAFT_ID):
            assert a.questionnaire(qid) is None
            code = towns.b_codes[0]
            calls: list[tuple[Any, tuple[Any, ...]]] = [
                (a.questionnaire_source, (qid,)),
                (a.set_state, (qid, "closed")),
                (a.set_access, (qid, "code")),
                (a.create_codes, (qid, 1)),
                (a.code_batches, (qid,)),
                (a.response_counts_by_day, (qid,)),
                (a.test_response_count, (qid,)),
                (a.remove_responses, (qid,)),
                (a.load_draft, (qid, code)),
                (a.check_code, (qid, code)),
                (a.save_draft, (qid, code, {"remarks": "x"}, 1)),
            ]
            for method, args in calls:
                with pytest.raises(InvalidInput):
                    method(*args)
        for call in (
            lambda: a.responses(towns.b_questionnaire),
            lambda: a.submit_test(towns.b_questionnaire, {}, language="de"),
            lambda: a.batch_membership(towns.b_batch, list(towns.b_codes)),
        ):
            with pytest.raises(InvalidInput):
                call()
        datasets = Datasets(base.engine, TEST_AGS)
        assert towns.b_dataset not in {s.id for s in datasets.list()}
        with pytest.raises(KeyError):
            datasets.load(towns.b_dataset)
        assert not datasets.delete(towns.b_dataset)
        workspace = Workspace(base, municipality=TEST_AGS)
        with pytest.raises(InvalidInput):
            workspace.inputs(B_OPEN_ID)
        # Nothing of B was changed by the attempts.
        b = base.for_municipality(TOWN_B)
        assert len(b.responses(towns.b_questionnaire)) == B_RESPONSES
        assert b.questionnaire(B_OPEN_ID) is not None
        assert str(b.questionnaire(B_OPEN_ID).state) == "open"  # type: ignore[union-attr]
        assert Datasets(base.engine, TOWN_B).load(towns.b_dataset).table is not None


def test_town_a_cannot_publish_over_town_b(towns: Towns) -> None:
    from survey import load_questionnaire_text
    from tests.security._towns import b_questionnaire_text

    text = b_questionnaire_text(B_OPEN_ID, "Übernommen")
    with Store(towns.url) as base, pytest.raises(InvalidInput) as raised:
        base.for_municipality(TEST_AGS).publish_questionnaire(
            load_questionnaire_text(text, "x.yaml"), text
        )
    assert [p.key for p in raised.value.problems] == ["storage.publish.id_taken"]


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_no_cli_command_for_town_a_reaches_town_b(towns: Towns, tmp_path: Path) -> None:
    url, a = towns.url, ["--municipality", TEST_AGS, "--database-url", towns.url]
    for qid in (B_OPEN_ID, B_DRAFT_ID):
        attempts = [
            ["codes", "list", "--questionnaire", qid, *a],
            ["codes", "create", "--questionnaire", qid, "--count", "2",
             "--out", str(tmp_path / f"{qid}.csv"), *a],
            ["questionnaire", "state", "--questionnaire", qid, "closed", *a],
            ["responses", "remove", "--questionnaire", qid, "--yes", *a],
            ["report", "--questionnaire", qid, "--out", str(tmp_path / f"{qid}.html"), *a],
        ]  # fmt: skip
        for args in attempts:
            code, output = _cli(*args)
            assert code != 0, (args, output)
            _assert_clean(output.replace(qid, ""), towns, " ".join(args[:2]))
    codes_file = tmp_path / "b_codes.csv"
    codes_file.write_text("code\n" + "\n".join(towns.b_codes) + "\n", encoding="utf-8")
    code, output = _cli(
        "codes", "letters", "--batch", towns.b_batch, "--codes", str(codes_file),
        "--out", str(tmp_path / "letters.pdf"), *a,
    )  # fmt: skip
    assert code != 0
    assert not (tmp_path / "letters.pdf").exists()
    # Paper forms: neither B's questionnaires printed nor scans stored into B's survey.
    code, output = _cli(
        "paper", "print", B_OPEN_ID, "--codes", str(codes_file), "--batch", towns.b_batch,
        "-o", str(tmp_path / "forms.pdf"), *a,
    )  # fmt: skip
    assert code != 0, output
    _assert_clean(output.replace(B_OPEN_ID, ""), towns, "paper print")
    assert not (tmp_path / "forms.pdf").exists()
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"not an image of B")
    code, output = _cli("paper", "scan", B_OPEN_ID, str(scan), *a)
    assert code != 0, output
    _assert_clean(output.replace(B_OPEN_ID, ""), towns, "paper scan")
    # Town A's own commands print nothing of B.
    code, output = _cli("codes", "list", "--questionnaire", "sicherheitsbefragung", *a)
    assert code == 0, output
    _assert_clean(output, towns, "codes list of town A")
    # With two towns, a command that touches a town's data needs --municipality.
    code, output = _cli("codes", "list", "--questionnaire", B_OPEN_ID, "--database-url", url)
    assert code == 1
    assert "--municipality" in output
    # Town A's backup holds nothing of B.
    out = tmp_path / "a.zip"
    code, output = _cli("municipality", "export", TEST_AGS, "-o", str(out), "--database-url", url)
    assert code == 0, output
    _assert_clean(_readable(out.read_bytes(), tmp_path), towns, "town A's export")


def test_the_public_survey_page_does_not_open_town_b_s_draft(towns: Towns) -> None:
    at = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=TIMEOUT)
    at.query_params["survey"] = B_DRAFT_ID
    at.run()
    assert not at.exception
    shown = " ".join(str(m.value) for m in at.markdown) + " ".join(str(e.value) for e in at.error)
    assert "Entwurf" not in shown
    assert "QXZ" not in " ".join(str(t.value) for t in at.title)


def test_a_town_s_backup_restores_into_another_installation(towns: Towns, tmp_path: Path) -> None:
    with Store(towns.url) as base:
        exported = Backups(base.database).export(TOWN_B)
    target = f"sqlite:///{tmp_path / 'other.db'}"
    with Store(target) as other:
        backups = Backups(other.database)
        # Another installation has other keys: B's codes and drafts only with --drop-codes.
        with pytest.raises(InvalidInput) as raised:
            backups.restore(exported, source="b.zip")
        assert [p.key for p in raised.value.problems] == ["backup.other_keys"]
        assert raised.value.problems[0].location.file == "b.zip"
        # Another schema version is refused, located, nothing written.
        tampered = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(exported)) as original,
            zipfile.ZipFile(tampered, "w") as copy,
        ):
            for name in original.namelist():
                data = original.read(name)
                if name == "manifest.json":
                    data = data.replace(b'"schema_version": ', b'"schema_version": 99')
                copy.writestr(name, data)
        with pytest.raises(InvalidInput) as raised:
            backups.restore(tampered.getvalue(), source="b.zip", drop_codes=True)
        assert "backup.schema_version" in [p.key for p in raised.value.problems]
        assert Municipalities(other.engine).get(TOWN_B) is None
        written = backups.restore(exported, source="b.zip", drop_codes=True)
        assert written["responses"] == B_RESPONSES
        assert written["access_codes"] == written["drafts"] == written["pending_keyings"] == 0
        restored = other.for_municipality(TOWN_B)
        assert {r.id for r in restored.questionnaires()} == {B_OPEN_ID, B_DRAFT_ID}
        assert len(restored.responses(towns.b_questionnaire)) == B_RESPONSES
        assert Datasets(other.engine, TOWN_B).load(towns.b_dataset).table is not None
        # A second restore is refused as a whole and writes nothing.
        with pytest.raises(InvalidInput) as again:
            backups.restore(exported, source="b.zip", drop_codes=True)
        assert "backup.municipality_exists" in [p.key for p in again.value.problems]
        assert len(restored.responses(towns.b_questionnaire)) == B_RESPONSES


def test_a_removed_account_leaves_no_membership_for_a_new_one_of_that_name(
    tmp_path: Path,
) -> None:
    from storage import Accounts

    url = f"sqlite:///{tmp_path / 'm.db'}"
    with Store(url) as store:
        municipalities = Municipalities(store.engine)
        municipalities.create(TOWN_B, "Bstadt")
        with Accounts(store.engine) as accounts:
            accounts.add_user("bernd", "Ein-langes-Passwort-2026")
            municipalities.add_member("bernd", TOWN_B)
            accounts.remove_user("bernd")
            accounts.add_user("bernd", "Ein-anderes-Passwort-2026")
        assert municipalities.of_account("bernd") == []


def test_a_manager_of_two_towns_picks_the_active_one(towns: Towns, tmp_path: Path) -> None:
    with Store(towns.url) as base:
        for ags in (TEST_AGS, TOWN_B):
            Municipalities(base.engine).add_member("carla", ags)
    at = _page("overview", Manager("carla", "local"))
    picker = at.sidebar.selectbox(key="manager.municipality")
    assert set(picker.options) == {f"Teststadt ({TEST_AGS})", f"Bstadt ({TOWN_B})"}
    picker.set_value(TEST_AGS).run()
    assert not at.exception, at.exception
    text = _everything(at, tmp_path)
    # Her picker names town B (she is its member too); nothing else of B is on the page.
    _assert_clean(text.replace(f"Bstadt ({TOWN_B})", ""), towns, "carla's overview of town A")
    assert "sicherheitsbefragung" in text
    at.sidebar.selectbox(key="manager.municipality").set_value(TOWN_B).run()
    assert not at.exception, at.exception
    assert "QXZ" in _everything(at, tmp_path)
