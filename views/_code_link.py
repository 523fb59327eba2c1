"""The access code from a letter's QR code, taken from the URL fragment in the browser.

A letter's QR code opens ``<address>#code=<code>`` (:func:`reporting.letter_link`). Browsers
never send a fragment to the server, so the code reaches no web server, proxy or access log
and no ``Referer`` header. This script, run in the resident's browser, removes the fragment
from the address bar at once (so it is not bookmarked, shared or shown on screen) and types
the code into the survey's code form, as the resident would; it goes to the server only over
the app's WebSocket, like a typed code. Checking it is the code form's job, unchanged.
"""

from __future__ import annotations

import json

import streamlit as st

from core import UI_LANGUAGES, t
from reporting import CODE_FRAGMENT

#: Waits up to two minutes for the code form (a slow phone or a busy server may take long
#: to draw the first page), then gives up: the resident can still type the printed code.
_SCRIPT = """<script>
(() => {{
  // Streamlit rewrites the address (pushState without the fragment) as soon as the page sets
  // a query parameter, which may be before this runs: the document's own navigation entry
  // still has the address the QR code opened.
  const opened = performance.getEntriesByType("navigation").map((entry) => entry.name);
  const pattern = new RegExp("#(?:.*&)?{key}=([^&]*)");
  const match = [window.location.href, ...opened].map((url) => pattern.exec(url)).find(Boolean);
  // Once per loaded document: the script runs again on every rerun of the page.
  if (!match || window.sicherheitsanalyseCodeTaken) return;
  window.sicherheitsanalyseCodeTaken = true;
  const code = decodeURIComponent(match[1]).slice(0, 40);
  if (window.location.hash) {{
    history.replaceState(history.state, "", window.location.pathname + window.location.search);
  }}
  const labels = {labels};
  let tries = 0;
  const fill = () => {{
    const input = [...document.querySelectorAll('[data-testid="stForm"] input')]
      .find((el) => labels.includes(el.getAttribute("aria-label")));
    if (!input) {{
      if (++tries < 600) setTimeout(fill, 200);
      return;
    }}
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
    input.focus();
    setValue.call(input, code);
    input.dispatchEvent(new Event("input", {{bubbles: true}}));
    input.blur();
    const button = input.closest('[data-testid="stForm"]').querySelector("button");
    if (button) setTimeout(() => button.click(), 150);
  }};
  fill();
}})();
</script>"""


def take_code_from_link() -> None:
    """Run the fragment script (a no-op in the browser when the URL has no code)."""
    labels = json.dumps([t("form.code_label", lang) for lang in UI_LANGUAGES])
    st.html(_SCRIPT.format(key=CODE_FRAGMENT, labels=labels), unsafe_allow_javascript=True)
