"""Capacity of the resident survey: concurrent respondents driven over Streamlit's WebSocket.

Run: ``python -m bench.survey_load --respondents 10,50,100 [--replicas 1|2] [--duration S]
[--think S]``

The bench starts everything itself, on loopback only: ``streamlit run serve.py`` on free ports
(one process, or two replicas behind Caddy with ``deploy/Caddyfile``: TLS ``internal``,
sticky cookie), a temporary database (SQLite for one process, a fresh PostgreSQL database at
``SICHERHEITSANALYSE_TEST_POSTGRES`` for replicas, dropped at the end) and the default
questionnaire published open. Each simulated respondent is what a browser tab is to the
server: it loads the page (through the proxy this sets the sticky cookie), opens
``/_stcore/stream`` and speaks the frontend's protocol — ``BackMsg.rerun_script`` with the
state of every widget on screen, a button press as a one-off trigger value, a widget inside a
fragment rerunning that fragment only — and reads the ``ForwardMsg`` deltas to see what is on
screen. It answers every visible question (the first option; "Ja", so every follow-up
appears), one rerun per answer as a click in the browser does, waits ``--think`` seconds
(jittered) between steps, presses "Weiter" page by page and submits; then it starts the next
survey in a fresh session. A survey counts as completed when the thank-you page is on screen;
the bench reads the stored responses back at the end and reports any difference.

Per level (``N`` respondents for ``--duration`` seconds; then each stops after the step
under way, abandoning its survey):

* surveys per minute: the page steps done in the window divided by the steps one survey
  takes (the warm-up survey's), since the window's edges cut surveys; the completed ones are
  printed too, with the number the database stored;
* page-step latency (send → the run finished): median and p95;
* CPU-seconds of the server processes (``/proc/<pid>/stat``: user + system) per survey, by
  the same steps; with replicas the proxy's CPU is printed separately;
* errors (timeouts, exceptions on the page, lost connections, steps that led nowhere).

The floor, measured in the same run: the same number of page steps a survey takes, against
a trivial Streamlit page (one button, the heap frozen as ``serve.py`` freezes it) in a
process of its own: what Streamlit's own rerun and WebSocket cost, below which no change to
the survey pages can go. ``--app`` serves another entry point than ``serve.py`` (to measure
a variant, e.g. an older one, against the same bench).

The clients run in this process (asyncio) on the same machine, so at high levels they take
CPU from the servers; the CPU figures are the servers' own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import ssl
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from core import t
from storage import DATABASE_URL_ENV_VAR
from survey import load_questionnaire
from tests.fixtures import municipality_store
from tests.serving import ROOT, Started, insecure_context, start_app, start_caddy

QUESTIONNAIRE = ROOT / "questionnaires" / "sicherheitsbefragung.yaml"
LANG = "de"
#: One page step may take this long before it counts as an error (the machine is shared).
STEP_TIMEOUT = 60.0
#: A survey that needs more steps than this went wrong (a page that never lets one through).
MAX_STEPS = 400
TEXT_ANSWER = "Mehr Licht am Bahnhof"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_FINISHED = {
    ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY,
    ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}


# --- processes ----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def app_environment(database_url: str, workdir: Path) -> dict[str, str]:
    """The app's database and the key file it shares with the bench's own store."""
    return {
        DATABASE_URL_ENV_VAR: database_url,
        "SICHERHEITSANALYSE_KEY_FILE": str(workdir / "installation.keys"),
    }


# --- one respondent's browser tab, as the server sees it ----------------------------------------


@dataclass
class Shown:
    """One element on screen: its kind (the ``Element`` field), proto and fragment."""

    kind: str
    element: Any
    fragment_id: str


class StepError(Exception):
    """A page step that failed: a timeout, an exception on the page, a closed connection."""


@dataclass
class Tab:
    """One Streamlit session over one WebSocket, keeping what the frontend keeps: the elements
    on screen by delta path, the widget values, the query string and the page."""

    url: str
    query_string: str
    ssl_context: ssl.SSLContext | None
    cookie: str | None = None
    elements: dict[tuple[int, ...], Shown] = field(default_factory=dict)
    values: dict[str, WidgetState] = field(default_factory=dict)
    page_script_hash: str = ""
    latencies: list[float] = field(default_factory=list)
    connection: Any = None

    async def open(self) -> None:
        """Load the page as a browser does (the proxy's sticky cookie comes with it), then
        open the stream and run the script once."""
        page_url = self.url + "/?" + self.query_string
        self.cookie = await asyncio.to_thread(self._sticky_cookie, page_url)
        ws_url = self.url.replace("http", "ws", 1) + "/_stcore/stream"
        headers = {"Origin": self.url}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.connection = await websockets.connect(
            ws_url,
            subprotocols=["streamlit"],  # type: ignore[list-item]
            additional_headers=headers,
            ssl=self.ssl_context,
            max_size=None,
            open_timeout=STEP_TIMEOUT,
            # A browser sends no ping frames; an overloaded server must not fail on them.
            ping_interval=None,
        )
        await self.run(None)

    def _sticky_cookie(self, page_url: str) -> str | None:
        with urllib.request.urlopen(page_url, timeout=STEP_TIMEOUT, context=self.ssl_context) as r:
            r.read()
            cookies = [c.split(";", 1)[0] for c in r.headers.get_all("Set-Cookie") or []]
        return "; ".join(cookies) or None

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    async def run(self, changed: WidgetState | None, fragment_id: str = "") -> None:
        """Send a rerun (with ``changed`` as the widget the user just set) and read until the
        run finished; what a click costs the respondent is recorded as one latency."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.fragment_id = fragment_id
        state.context_info.timezone = "Europe/Berlin"
        state.context_info.locale = "de-DE"
        state.context_info.url = self.url + "/?" + self.query_string
        if changed is not None and not changed.HasField("trigger_value"):
            self.values[changed.id] = changed
        shown_ids = {_widget_id(s) for s in self.elements.values()}
        for widget_id, value in self.values.items():
            if widget_id in shown_ids:
                state.widget_states.widgets.append(value)
        if changed is not None and changed.HasField("trigger_value"):
            state.widget_states.widgets.append(changed)
        self._forget(fragment_id)
        start = time.perf_counter()
        await self.connection.send(message.SerializeToString())
        try:
            await asyncio.wait_for(self._until_finished(fragment_id), STEP_TIMEOUT)
        except TimeoutError as late:
            raise StepError(f"no answer within {STEP_TIMEOUT:.0f} s") from late
        self.latencies.append(time.perf_counter() - start)
        for shown in self.elements.values():
            if shown.kind == "exception":
                raise StepError(f"exception on the page: {shown.element.message[:200]}")

    def _forget(self, fragment_id: str) -> None:
        """What the frontend clears for a new run: everything, or the fragment's elements."""
        if not fragment_id:
            self.elements.clear()
        else:
            self.elements = {
                path: shown
                for path, shown in self.elements.items()
                if shown.fragment_id != fragment_id
            }

    async def _until_finished(self, fragment_id: str) -> None:
        while True:
            try:
                data = await self.connection.recv()
            except websockets.ConnectionClosed as closed:
                raise StepError(f"connection closed: {closed}") from closed
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta":
                self._apply(msg)
            elif kind == "new_session":
                self.page_script_hash = msg.new_session.page_script_hash or self.page_script_hash
            elif kind == "navigation":
                self.page_script_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "script_finished":
                if msg.script_finished in _FINISHED:
                    return
                if msg.script_finished == ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN:
                    # st.rerun(): the next run (the whole app) draws the page anew.
                    self._forget("")
                    continue
                raise StepError(f"script finished with status {msg.script_finished}")
            elif kind == "ref_hash":
                raise StepError("a cached message was referenced, but this client caches none")

    def _apply(self, msg: ForwardMsg) -> None:
        delta = msg.delta
        path = tuple(msg.metadata.delta_path)
        if delta.WhichOneof("type") == "new_element":
            element = delta.new_element
            kind = element.WhichOneof("type") or ""
            self.elements[path] = Shown(kind, getattr(element, kind), delta.fragment_id)
        elif delta.WhichOneof("type") == "add_block":
            # A block replaces whatever was drawn below this path.
            self.elements = {
                p: s for p, s in self.elements.items() if p[: len(path)] != path or p == path
            }

    def shown(self, kind: str) -> list[Shown]:
        return [s for _, s in sorted(self.elements.items()) if s.kind == kind]

    def headings(self) -> list[str]:
        return [str(s.element.body) for s in self.shown("heading")]


def _widget_id(shown: Shown) -> str:
    return str(getattr(shown.element, "id", ""))


#: The widget kinds that hold an answer, and the one value the respondent gives.
_ANSWER_KINDS = ("radio", "selectbox", "checkbox", "number_input", "text_input", "text_area")


def _answer(shown: Shown) -> WidgetState:
    state = WidgetState(id=shown.element.id)
    kind, element = shown.kind, shown.element
    if kind in ("radio", "selectbox"):
        state.string_value = element.options[0]
    elif kind == "checkbox":
        state.bool_value = True
    elif kind == "number_input":
        low = element.min if element.has_min else 0
        value = low + 5
        state.double_value = min(value, element.max) if element.has_max else value
    else:
        state.string_value = TEXT_ANSWER
    return state


def _answer_key(widget_id: str) -> str | None:
    """The answer id in a survey widget's key (``survey.<q>.answer.<id>``), or ``None``."""
    _, marker, rest = widget_id.partition(".answer.")
    return rest if marker else None


@dataclass
class Outcome:
    completed: int = 0
    #: Steps of completed surveys (for the steps a survey takes).
    completed_steps: int = 0
    errors: list[str] = field(default_factory=list)
    #: Every step's latency in the window, of completed, abandoned and failed surveys alike.
    latencies: list[float] = field(default_factory=list)


class Abandoned(Exception):
    """The window closed while this survey was under way."""


async def one_survey(
    url: str,
    survey_id: str,
    think: float,
    ssl_context: ssl.SSLContext | None,
    rng: random.Random,
    latencies: list[float],
    until: float = float("inf"),
) -> int:
    """One respondent from the letter's address to "Vielen Dank!"; returns the steps taken.
    Each step's latency goes to ``latencies``; at ``until`` (monotonic) it stops, abandoned."""
    tab = Tab(url, f"survey={survey_id}", ssl_context, latencies=latencies)
    buttons = {t("form.start", LANG), t("form.next", LANG), t("form.submit", LANG)}
    thanks = t("form.thanks_title", LANG)
    steps_before = len(latencies)
    try:
        await tab.open()
        answered: set[str] = set()
        for _ in range(MAX_STEPS):
            if thanks in tab.headings():
                return len(latencies) - steps_before
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            if time.monotonic() > until:
                raise Abandoned
            widget = _next_unanswered(tab, answered)
            if widget is not None:
                answered.add(widget.element.id)
                await tab.run(_answer(widget), widget.fragment_id)
                continue
            press = [b for b in tab.shown("button") if b.element.label in buttons]
            if not press:
                raise StepError(f"no button to go on; headings {tab.headings()}")
            button = press[-1]
            await tab.run(WidgetState(id=button.element.id, trigger_value=True), "")
        raise StepError(f"not finished after {MAX_STEPS} steps; headings {tab.headings()}")
    finally:
        await tab.close()


def _next_unanswered(tab: Tab, answered: set[str]) -> Shown | None:
    chosen_items: set[str] = set()
    for shown in tab.shown("checkbox"):
        key = _answer_key(shown.element.id)
        if key and shown.element.id in answered:
            chosen_items.add(key.rsplit(".", 1)[0])
    for kind in _ANSWER_KINDS:
        for shown in tab.shown(kind):
            key = _answer_key(shown.element.id)
            if key is None or shown.element.id in answered:
                continue
            if kind == "checkbox" and key.rsplit(".", 1)[0] in chosen_items:
                continue  # one option of a multiple choice: an exclusive one may follow
            return shown
    return None


async def respondent(
    url: str,
    survey_id: str,
    think: float,
    until: float,
    outcome: Outcome,
    ssl_context: ssl.SSLContext | None,
    seed: int,
) -> None:
    """Complete surveys one after the other until ``until`` (monotonic)."""
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, max(think, 0.2) * 4))  # do not all start at once
    while time.monotonic() < until:
        try:
            steps = await one_survey(
                url, survey_id, think, ssl_context, rng, outcome.latencies, until
            )
        except Abandoned:
            return
        except (StepError, OSError, websockets.WebSocketException) as error:
            outcome.errors.append(f"{type(error).__name__}: {error}")
            await asyncio.sleep(1.0)
            continue
        outcome.completed += 1
        outcome.completed_steps += steps


# --- levels -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    respondents: int
    replicas: int
    seconds: float
    completed: int
    stored: int
    #: Page steps in the window (of completed and of unfinished surveys).
    steps: int
    #: Page steps one survey takes (the warm-up survey's).
    steps_per_survey: int
    p50: float
    p95: float
    server_cpu: float
    proxy_cpu: float
    errors: list[str]

    @property
    def surveys(self) -> float:
        """Surveys' worth of page steps done in the window: the window's edges cut surveys
        (the first ones start in it, the last are abandoned), so counting only completed ones
        would undercount short windows."""
        return self.steps / self.steps_per_survey

    @property
    def per_minute(self) -> float:
        return self.surveys / self.seconds * 60

    @property
    def cpu_per_survey(self) -> float:
        return self.server_cpu / self.surveys if self.steps else float("nan")


def run_level(
    url: str,
    survey_id: str,
    respondents: int,
    duration: float,
    think: float,
    pids: Sequence[int],
    proxy_pid: int | None,
    ssl_context: ssl.SSLContext | None,
) -> tuple[Outcome, float, float, float]:
    """``respondents`` concurrent respondents for ``duration`` s (then each stops after the
    step under way): the outcome, the wall time and the CPU-seconds of the servers and of the proxy."""
    cpu_before = [cpu_seconds(pid) for pid in pids]
    proxy_before = cpu_seconds(proxy_pid) if proxy_pid else 0.0
    outcome = Outcome()
    start = time.monotonic()

    async def main() -> None:
        until = time.monotonic() + duration
        await asyncio.gather(
            *(
                respondent(url, survey_id, think, until, outcome, ssl_context, seed)
                for seed in range(respondents)
            )
        )

    asyncio.run(main())
    seconds = time.monotonic() - start
    server_cpu = sum(
        cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)
    )
    proxy_cpu = cpu_seconds(proxy_pid) - proxy_before if proxy_pid else 0.0
    return outcome, seconds, server_cpu, proxy_cpu


def _percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def stored_responses(database_url: str) -> int:
    with municipality_store(database_url) as store:
        return len(store.responses(load_questionnaire(QUESTIONNAIRE)))


@contextlib.contextmanager
def database(workdir: Path, postgres: bool) -> Iterator[str]:
    """A fresh database with the default questionnaire published open."""
    if postgres:
        from tests.databases import scratch_postgres_database

        with scratch_postgres_database("sa_bench") as url:
            _publish(url)
            yield url
    else:
        url = f"sqlite:///{workdir / 'survey.db'}"
        _publish(url)
        yield url


def _publish(url: str) -> None:
    questionnaire = load_questionnaire(QUESTIONNAIRE)
    # The questionnaire belongs to a municipality, as every published one does.
    with municipality_store(url) as store:
        store.publish_questionnaire(questionnaire, QUESTIONNAIRE.read_text(encoding="utf-8"))


def measure(
    levels: Sequence[int],
    replicas: int,
    duration: float,
    think: float,
    postgres: bool,
    entry: Path = ROOT / "serve.py",
) -> list[Level]:
    survey_id = load_questionnaire(QUESTIONNAIRE).id
    results: list[Level] = []
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="survey_load_")))
        # The bench's own Store (publishing, counting) and the servers share one key file.
        os.environ["SICHERHEITSANALYSE_KEY_FILE"] = str(workdir / "installation.keys")
        url = stack.enter_context(database(workdir, postgres))
        apps: list[Started] = []
        proxy: Started | None = None
        try:
            for index in range(replicas):
                apps.append(
                    start_app(
                        entry,
                        app_environment(url, workdir),
                        workdir / f"replica{index + 1}.log",
                    )
                )
            context: ssl.SSLContext | None = None
            if replicas > 1:
                proxy = start_caddy(workdir, [a.port for a in apps])
                base = f"https://127.0.0.1:{proxy.port}"
                context = insecure_context()
            else:
                base = f"http://127.0.0.1:{apps[0].port}"
            # One survey first: imports, caches and the first connection warm up unmeasured.
            warm: list[float] = []
            steps = asyncio.run(one_survey(base, survey_id, 0.0, context, random.Random(0), warm))
            for respondents in levels:
                before = stored_responses(url)
                outcome, seconds, server_cpu, proxy_cpu = run_level(
                    base,
                    survey_id,
                    respondents,
                    duration,
                    think,
                    [a.process.pid for a in apps],
                    proxy.process.pid if proxy else None,
                    context,
                )
                level = Level(
                    respondents=respondents,
                    replicas=replicas,
                    seconds=seconds,
                    completed=outcome.completed,
                    stored=stored_responses(url) - before,
                    steps=len(outcome.latencies),
                    steps_per_survey=steps,
                    p50=_percentile(outcome.latencies, 0.5),
                    p95=_percentile(outcome.latencies, 0.95),
                    server_cpu=server_cpu,
                    proxy_cpu=proxy_cpu,
                    errors=outcome.errors,
                )
                results.append(level)
                _print_level(level)
        except BaseException:
            for started in [*apps, *([proxy] if proxy else [])]:
                print(f"--- {started.log.name} (last lines)\n{started.log.read_text()[-2500:]}")
            raise
        finally:
            if proxy is not None:
                proxy.stop()
            for started in apps:
                started.stop()
    return results


FLOOR_SCRIPT = """import gc
import streamlit as st

@st.cache_resource
def frozen() -> bool:
    gc.freeze()  # what serve.py does at start
    return True

frozen()
st.title("Floor")
if st.button("Weiter"):
    st.write("pressed")
"""


def floor(steps: int, pause: float) -> float:
    """CPU-seconds of ``steps`` button presses on a one-button page: Streamlit's own cost
    (with the heap frozen after the first run, as ``serve.py`` freezes it at start)."""
    with tempfile.TemporaryDirectory(prefix="survey_floor_") as tmp:
        workdir = Path(tmp)
        script = workdir / "floor.py"
        script.write_text(FLOOR_SCRIPT, encoding="utf-8")
        app = start_app(
            script,
            app_environment(f"sqlite:///{workdir / 'unused.db'}", workdir),
            workdir / "floor.log",
        )
        try:
            url = f"http://127.0.0.1:{app.port}"

            async def presses() -> None:
                tab = Tab(url, "", None)
                await tab.open()
                for _ in range(steps):
                    await asyncio.sleep(pause)
                    button = tab.shown("button")[0]
                    await tab.run(WidgetState(id=button.element.id, trigger_value=True))
                await tab.close()

            asyncio.run(presses())  # warm-up
            before = cpu_seconds(app.process.pid)
            asyncio.run(presses())
            return cpu_seconds(app.process.pid) - before
        finally:
            app.stop()


def _print_level(level: Level) -> None:
    extra = f"  proxy {level.proxy_cpu:6.1f} CPU-s" if level.replicas > 1 else ""
    print(
        f"{level.respondents:>5} respondents × {level.replicas} replica(s): "
        f"{level.per_minute:6.1f} surveys/min ({level.steps} steps in {level.seconds:.0f} s, "
        f"{level.completed} completed, {level.stored} stored)  step p50 "
        f"{level.p50 * 1000:6.0f} ms  p95 {level.p95 * 1000:6.0f} ms  "
        f"{level.cpu_per_survey:5.2f} CPU-s/survey{extra}  "
        f"errors {len(level.errors)}",
        flush=True,
    )
    for error in sorted(set(level.errors))[:5]:
        print(f"      {level.errors.count(error)}× {error}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--respondents", default="10,50,100", help="comma-separated levels")
    parser.add_argument("--replicas", type=int, default=1, choices=(1, 2, 3, 4))
    parser.add_argument("--duration", type=float, default=120.0, help="seconds per level")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between two steps, seconds"
    )
    parser.add_argument(
        "--postgres",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="PostgreSQL (default with replicas) or SQLite (default for one process)",
    )
    parser.add_argument(
        "--app",
        type=Path,
        default=ROOT / "serve.py",
        help="the entry point to serve (to compare a variant; default serve.py)",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the floor measurement")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.respondents.split(",") if n.strip()]
    postgres = args.replicas > 1 if args.postgres is None else args.postgres
    print(
        f"survey_load {date.today().isoformat()} on {platform.node()} "
        f"({os.cpu_count()} CPUs, {platform.platform()}), python {platform.python_version()}; "
        f"{'PostgreSQL' if postgres else 'SQLite'}, think {args.think:.1f} s, "
        f"{args.duration:.0f} s per level",
        flush=True,
    )
    results = measure(levels, args.replicas, args.duration, args.think, postgres, args.app)
    steps = results[0].steps_per_survey if results else 0
    if not args.no_floor and steps:
        floor_cpu = floor(steps, 0.0)
        print(
            f"floor: {steps} presses on a one-button Streamlit page: {floor_cpu:.2f} CPU-s "
            f"(the survey costs {statistics.mean(r.cpu_per_survey for r in results):.2f})"
        )
    lost = [r for r in results if r.stored != r.completed]
    if lost:
        print(f"MISMATCH: completed and stored differ at {[r.respondents for r in lost]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
