"""Headless Chromium for the tests that must see a page as a browser draws it.

``chromium()`` finds the browser, or skips the test; with ``NETPOL_REQUIRE_CHROMIUM=1`` (CI sets
it) a missing browser fails the test instead. ``dump_dom()`` loads a page with the network cut
off and returns the DOM after its scripts ran: a page reports what it measured by writing it
into the DOM (``report_script()``), which keeps the tests free of a DevTools client.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["FLAGS", "chromium", "dump_dom", "read_report", "report_script"]

#: Quiet, sandbox-free, offline: every host resolves nowhere, so a page that tries to fetch
#: anything from the network (a CDN) gets nothing.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
)


def chromium() -> str:
    """The Chromium executable; skips the test when there is none (fails under CI's flag)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    if os.environ.get("NETPOL_REQUIRE_CHROMIUM") == "1":
        pytest.fail("NETPOL_REQUIRE_CHROMIUM=1 but no chromium found; install Debian's chromium")
    pytest.skip("chromium is not installed")


def dump_dom(page: Path, profile: Path, *, width: int = 1400, height: int = 1000,
             budget_ms: int = 20000) -> str:
    """The page's DOM after load and up to ``budget_ms`` of (virtual) time for its scripts."""
    proc = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
         f"--virtual-time-budget={budget_ms}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert proc.returncode == 0 and proc.stdout, proc.stderr[-3000:]
    return proc.stdout


#: A script that calls ``measure()`` (defined by the test's page) once ``ready()`` says so, and
#: writes the JSON result into ``<pre id="netpol-report">``.
_REPORT = """
<script>
(function () {
  var tries = 0;
  function finish() {
    var out = document.createElement("pre");
    out.id = "netpol-report";
    var result;
    try { result = measure(); } catch (err) { result = {error: String(err)}; }
    out.textContent = JSON.stringify(result);
    document.body.appendChild(out);
  }
  function poll() {
    tries += 1;
    var done = false;
    try { done = ready(); } catch (err) { done = false; }
    if (done || tries > 150) { finish(); } else { setTimeout(poll, 100); }
  }
  window.addEventListener("load", function () { setTimeout(poll, 0); });
})();
</script>
"""


def report_script(ready: str, measure: str) -> str:
    """A ``<script>`` block: poll ``ready`` (a JS expression), then record ``measure`` (a JS
    expression giving a JSON-able value) for ``read_report``."""
    return (f"<script>function ready() {{ return {ready}; }}\n"
            f"function measure() {{ return {measure}; }}</script>" + _REPORT)


def read_report(dom: str) -> object:
    """What ``report_script`` recorded in a dumped DOM."""
    start = dom.find('<pre id="netpol-report">')
    assert start >= 0, "the page wrote no report:\n" + dom[-2000:]
    body = dom[start + len('<pre id="netpol-report">'):dom.index("</pre>", start)]
    import html

    return json.loads(html.unescape(body))
