"""Setting up an installation (``sicherheitsanalyse setup``, run by every ``make run``) and the
demo municipality.

:func:`setup` is idempotent: it creates or migrates the schema, publishes every questionnaire
file of a folder (a broken file is reported and skipped), creates the first administrator once
(its generated password is returned that one time, for the terminal) and seeds the demo
municipality "Musterstadt (DEMO)" if it is not there yet.

The demo is its own questionnaire (:data:`DEMO_QUESTIONNAIRE_ID`: the default questionnaire
naming the demo municipality, closed, so residents never see it) with about 800 synthetic
responses, plus incident counts for three years and the population with its margins saved as
datasets whose source is :data:`DEMO_SOURCE`. :func:`seed_demo` is the one seeder: with
``closed_copy=False`` it seeds the open default questionnaire instead, as the manager pages'
tests and benchmark use it. :func:`reset_demo` removes exactly these and
seeds them again from the same seed, so the same data come back; nothing else is touched.
:func:`remove_demo` removes them for good (before real data are uploaded).
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from app._demo import DEMO, DemoMunicipality, demo_data, demo_questionnaire_text
from core import InvalidInput, Location, Problem, t
from sources import read_incidents, read_population
from storage import (
    CURRENT_VERSION,
    Accounts,
    DatasetKind,
    Datasets,
    Municipalities,
    QuestionnaireState,
    Store,
)
from survey import (
    ActionFieldCatalogue,
    Questionnaire,
    check_questionnaire,
    is_action_field_catalogue,
    load_action_fields,
    load_questionnaire_text,
)

#: The questionnaire the demo municipality's survey is a copy of (shipped with the package).
DEMO_BASE_QUESTIONNAIRE = (
    Path(__file__).resolve().parent.parent / "questionnaires" / "sicherheitsbefragung.yaml"
)
DEMO_QUESTIONNAIRE_ID = "musterstadt-demo"
#: The source of the demo's saved datasets: how they are listed, and found again to reset.
DEMO_SOURCE = "Musterstadt (DEMO) – synthetisch"
QUESTIONNAIRE_PATTERNS = ("*.yaml", "*.yml")
#: The storage's refusal of a changed revision of a survey with responses.
LIVE_SURVEY_REFUSAL = "storage.publish.has_responses"


@dataclass(frozen=True)
class PublishedQuestionnaire:
    path: Path
    id: str
    revision: str
    state: QuestionnaireState


@dataclass(frozen=True)
class SkippedFile:
    """A questionnaire file that was not published, and why."""

    path: Path
    problems: tuple[Problem, ...]

    @property
    def live_survey_changed(self) -> bool:
        """Skipped because it would change a survey that already has responses (publish it
        as a new version instead), not because the file has errors."""
        return any(p.key == LIVE_SURVEY_REFUSAL for p in self.problems)


@dataclass(frozen=True)
class DemoSummary:
    """What the demo municipality holds after seeding."""

    name: str
    questionnaire_id: str
    responses: int
    incident_years: tuple[int, ...]
    population_years: tuple[int, ...]
    margin_rows: int
    #: The seeded questionnaire as loaded (for callers that go on submitting to it).
    questionnaire: Questionnaire = field(compare=False, repr=False)


@dataclass(frozen=True)
class SetupReport:
    """What :func:`setup` did. ``admin_password`` is set only on the very first run."""

    schema_version: int
    published: list[PublishedQuestionnaire] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    admin_password: str | None = None
    #: Set when this run seeded the demo.
    demo_seeded: DemoSummary | None = None
    #: Whether the demo municipality has its responses after this run (not removed).
    demo_present: bool = False
    #: Why the demo could not be seeded (e.g. a broken action-field catalogue).
    demo_problems: tuple[Problem, ...] = ()
    #: Rows per table that no municipality owns (from before municipalities): shown on no
    #: page until ``sicherheitsanalyse municipality adopt`` gives them to one.
    unassigned: dict[str, int] = field(default_factory=dict)


def setup_installation(
    url: str | None = None,
    *,
    questionnaires: Path = Path("questionnaires"),
    demo: bool = True,
    municipality: str | None = None,
) -> SetupReport:
    """Bring an installation up to date; safe to run at every start.

    Parameters
    ----------
    url
        Database URL (default: the configured one, see :func:`storage._engine.database_url`).
    questionnaires
        Folder whose ``*.yaml`` questionnaires are published (state ``open`` when new; a
        published questionnaire keeps its state). The action-field catalogue is skipped.
    demo
        Seed the demo municipality if it is not there yet.
    municipality
        The municipality (AGS) the folder's questionnaires are published for; default: the
        only municipality that is not the demo. With none or several, the files are skipped
        and the report says why.
    """
    published: list[PublishedQuestionnaire] = []
    skipped: list[SkippedFile] = []
    with Store(url) as store:
        # The demo's rows of a database from before municipalities go to the demo at once;
        # everything else waits for the administrator (`municipality adopt`).
        adopt_demo(store)
        files = _questionnaire_files(questionnaires)
        try:
            target = publishing_store(store, municipality) if files else store
        except InvalidInput as invalid:
            skipped += [SkippedFile(path, tuple(invalid.problems)) for path in files]
            files = []
        for path in files:
            try:
                published.append(_publish_file(target, path))
            except InvalidInput as invalid:
                skipped.append(SkippedFile(path, tuple(invalid.problems)))
        with Accounts(store.engine) as accounts:
            password = accounts.ensure_admin()
        seeded: DemoSummary | None = None
        demo_problems: tuple[Problem, ...] = ()
        # Only a database that never had the demo gets it: after `demo remove` the (empty)
        # demo questionnaire stays, so the demo does not come back at the next start.
        if demo and store.questionnaire(DEMO_QUESTIONNAIRE_ID) is None:
            try:
                remove_demo(store)  # demo datasets an interrupted earlier seeding left
                seeded = seed_demo(store)
            except InvalidInput as invalid:
                demo_problems = tuple(invalid.problems)
        present = len(store.response_counts_by_day(DEMO_QUESTIONNAIRE_ID)) > 0
        unassigned = Municipalities(store.engine).unassigned()
    return SetupReport(
        schema_version=CURRENT_VERSION,
        published=published,
        skipped=skipped,
        admin_password=password,
        demo_seeded=seeded,
        demo_present=present,
        demo_problems=demo_problems,
        unassigned=unassigned,
    )


def publishing_store(store: Store, municipality: str | None) -> Store:
    """The store of ``municipality``, or of the only municipality that is not the demo;
    :class:`InvalidInput` (located at ``--municipality``) when none or several qualify."""
    municipalities = Municipalities(store.engine)
    if municipality is not None:
        return store.for_municipality(municipalities.require(municipality, "--municipality").ags)
    real = [m for m in municipalities.all() if not m.demo]
    if len(real) == 1:
        return store.for_municipality(real[0].ags)
    key = "installation.no_municipality" if not real else "installation.several_municipalities"
    choices = ", ".join(f"{m.ags} ({m.name})" for m in real)
    raise InvalidInput([Problem(Location(field="--municipality"), key, {"choices": choices})])


def adopt_demo(store: Store, demo: DemoMunicipality = DEMO) -> dict[str, int]:
    """Give the demo's unowned rows (its questionnaire and datasets, from a database older
    than municipalities) to the demo municipality; rows per table."""
    q = store.questionnaire(DEMO_QUESTIONNAIRE_ID)
    if q is None or store.owner(DEMO_QUESTIONNAIRE_ID) is not None:
        return {}
    demo_store(store, demo)
    return Municipalities(store.engine).adopt(
        demo.ags, questionnaire_id=DEMO_QUESTIONNAIRE_ID, dataset_source=DEMO_SOURCE
    )


def _questionnaire_files(folder: Path) -> list[Path]:
    files = sorted({p for pattern in QUESTIONNAIRE_PATTERNS for p in folder.glob(pattern)})
    return [p for p in files if p.is_file() and not is_action_field_catalogue(p)]


def _publish_file(store: Store, path: Path) -> PublishedQuestionnaire:
    result = check_questionnaire(path)
    if result.questionnaire is None or result.errors:
        raise InvalidInput(result.errors or result.problems)
    questionnaire = result.questionnaire
    try:
        # Without new_version: a changed file of a live survey with responses is refused
        # here and reported as skipped, never published behind the manager's back.
        store.publish_questionnaire(questionnaire, path.read_text(encoding="utf-8"))
    except InvalidInput as refused:
        raise InvalidInput(
            [
                dataclasses.replace(p, location=dataclasses.replace(p.location, file=str(path)))
                for p in refused.problems
            ]
        ) from None
    record = store.questionnaire(questionnaire.id)
    state = record.state if record is not None else QuestionnaireState.OPEN
    return PublishedQuestionnaire(path, questionnaire.id, questionnaire.revision, state)


# --- the demo municipality ------------------------------------------------------------------


def demo_questionnaire_source(
    base: Path = DEMO_BASE_QUESTIONNAIRE, demo: DemoMunicipality = DEMO
) -> str:
    """The demo's questionnaire text: ``base`` naming the demo municipality, under its own id
    (:data:`DEMO_QUESTIONNAIRE_ID`) and with a title that says DEMO in every language."""
    text = demo_questionnaire_text(base.read_text(encoding="utf-8"), demo)
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    document = yaml.load(text)
    meta = document["meta"]
    meta["id"] = DEMO_QUESTIONNAIRE_ID
    for lang in list(meta["title"]):
        suffix = t("installation.demo.title_suffix", lang)
        meta["title"][lang] = DoubleQuotedScalarString(f"{meta['title'][lang]} – {suffix}")
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def demo_questionnaire(catalogue: ActionFieldCatalogue | None = None) -> Questionnaire:
    """The demo's questionnaire, loaded from :func:`demo_questionnaire_source`."""
    return load_questionnaire_text(
        demo_questionnaire_source(), f"{DEMO_QUESTIONNAIRE_ID}.yaml", catalogue=catalogue
    )


def seed_demo(
    store: Store,
    demo: DemoMunicipality = DEMO,
    *,
    closed_copy: bool = True,
    responses: int | None = None,
    with_area: bool = True,
    datasets: bool = True,
    incidents: bool = True,
) -> DemoSummary:
    """Publish a questionnaire for ``demo`` and store its synthetic responses and datasets.

    The data come from ``demo.seed``, so seeding again (after :func:`remove_demo`) gives the
    same data. Incidents and population are read as an upload is read, so the saved datasets
    are what an import gives.

    Parameters
    ----------
    closed_copy
        ``True`` (what ``setup`` and ``demo reset`` seed): a closed copy of the default
        questionnaire under :data:`DEMO_QUESTIONNAIRE_ID`, datasets saved with the source
        :data:`DEMO_SOURCE`, so :func:`remove_demo` finds exactly these again. ``False`` (the
        manager pages' tests and benchmark): the default questionnaire itself, open, under its
        own id, with datasets as a manager uploads them (``bevoelkerung.csv``, ``pks.csv``).
    responses
        How many synthetic responses (default: ``demo.responses``).
    with_area
        Name the municipality's key and reference area in the questionnaire; without them the
        manager chooses both on the priorities page. Only for ``closed_copy=False``.
    datasets, incidents
        Save the population (``datasets``) and the incident counts (both).
    """
    if responses is not None:
        demo = demo.model_copy(update={"responses": responses})
    catalogue = load_action_fields()
    if closed_copy:
        source, filename = demo_questionnaire_source(demo=demo), f"{DEMO_QUESTIONNAIRE_ID}.yaml"
        population_source = incidents_source = DEMO_SOURCE
    else:
        source = DEMO_BASE_QUESTIONNAIRE.read_text(encoding="utf-8")
        if with_area:
            source = demo_questionnaire_text(source, demo)
        filename = DEMO_BASE_QUESTIONNAIRE.name
        population_source, incidents_source = "bevoelkerung.csv", "pks.csv"
    if closed_copy:  # the demo is its own municipality
        store = demo_store(store, demo)
    questionnaire = load_questionnaire_text(source, filename, catalogue=catalogue)
    data = demo_data(questionnaire, catalogue, demo=demo)
    saved = Datasets(store.engine, store.municipality)
    population_years: tuple[int, ...] = ()
    incident_years: tuple[int, ...] = ()
    margin_rows = 0
    if datasets:
        population = read_population(
            io.BytesIO(csv_bytes(data.population)), filename=population_source
        )
        margin_rows = 0 if population.margins is None else len(population.margins)
        if incidents:
            counts = read_incidents(
                io.BytesIO(csv_bytes(data.incidents)), filename=incidents_source
            )
            incident_years = saved.save(
                DatasetKind.INCIDENTS, counts, source=incidents_source
            ).years
        population_years = saved.save(
            DatasetKind.POPULATION, population, source=population_source
        ).years
    # Published after the datasets: an interruption before this leaves no demo questionnaire,
    # so the next setup cleans up and seeds again.
    store.publish_questionnaire(
        questionnaire,
        source,
        initial_state=QuestionnaireState.CLOSED if closed_copy else QuestionnaireState.OPEN,
    )
    stored = store.import_responses(questionnaire, data.responses, mode="web")
    return DemoSummary(
        name=demo.name,
        questionnaire_id=questionnaire.id,
        responses=stored,
        incident_years=incident_years,
        population_years=population_years,
        margin_rows=margin_rows,
        questionnaire=questionnaire,
    )


def remove_demo(store: Store) -> None:
    """Delete the demo questionnaire's responses, drafts and codes and the demo datasets.

    The demo questionnaire itself stays (its revisions are history, and it tells
    :func:`setup` not to seed the demo again); nothing else is touched. The demo datasets
    matter to a real municipality's analysis: without a ``reference_area`` the reference is
    the sum of all saved areas, the demo's included, so remove the demo before uploading
    real data.
    """
    demo = demo_store(store)
    if demo.visible(DEMO_QUESTIONNAIRE_ID):
        demo.remove_responses(DEMO_QUESTIONNAIRE_ID)
    datasets = Datasets(store.engine, demo.municipality)
    for summary in datasets.list():
        if summary.source == DEMO_SOURCE:
            datasets.delete(summary.id)


def demo_store(store: Store, demo: DemoMunicipality = DEMO) -> Store:
    """The store of the demo municipality (created if the database has none yet), whose
    name says DEMO and whose key (99…) names no real place."""
    # The demo's own name says DEMO already ("Musterstadt (DEMO)"); another demo gets it added.
    name = (
        demo.name
        if "DEMO" in demo.name
        else t("installation.demo.municipality", "de", name=demo.name)
    )
    Municipalities(store.engine).ensure(demo.ags, name, demo=True)
    return store.for_municipality(demo.ags)


def remove_demo_data(url: str | None = None) -> None:
    """:func:`remove_demo` on the database at ``url`` (``sicherheitsanalyse demo remove``)."""
    with Store(url) as store:
        remove_demo(store)


def reset_demo(url: str | None = None, demo: DemoMunicipality = DEMO) -> DemoSummary:
    """Restore the demo municipality to its seeded state (same seed, same data)."""
    with Store(url) as store:
        remove_demo(store)
        return seed_demo(store, demo)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as an upload would come: semicolon-separated UTF-8 CSV."""
    return frame.to_csv(sep=";", index=False).encode("utf-8")
