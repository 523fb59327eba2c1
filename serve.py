"""The production entry point: ``streamlit run serve.py`` serves ``survey_app.py`` as an
``st.App`` behind the project's HTTP edge (security headers, closed endpoints; see
``views/_edge.py``). ``make run`` and the browser tests start the app this way."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from views._edge import EdgeMiddleware

app = st.App(Path(__file__).with_name("survey_app.py"), middleware=[Middleware(EdgeMiddleware)])
