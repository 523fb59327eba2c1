"""The production entry point: ``streamlit run serve.py`` serves ``survey_app.py`` as an
``st.App`` behind the project's HTTP edge (security headers, closed endpoints; see
``views/_edge.py``). ``make run`` and the browser tests start the app this way.

Streamlit collects garbage after every script run (``runner.postScriptGC``): a full
collection walks every object the process tracks, about 220,000 once pandas, SciPy, Plotly
and the pages are imported, which took ~0.1 s of CPU per rerun, three quarters of what a
completed survey cost the server (``python -m bench.survey_load``, docs/performance.md).
So the pages are imported here, at start, and everything that exists then is frozen out of
the collector (``gc.freeze``): the modules live as long as the process anyway. The collection
after each run still frees what that run and its session left behind.
"""

from __future__ import annotations

import gc
import importlib
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from views._edge import EdgeMiddleware

app = st.App(Path(__file__).with_name("survey_app.py"), middleware=[Middleware(EdgeMiddleware)])

# What survey_app.py's first run would import (the pages, and through them pandas, SciPy,
# Plotly); held for the process's life, none of it needs the collector. Keep this last.
for module in ("views.manager", "views.survey_page"):
    importlib.import_module(module)
gc.freeze()
