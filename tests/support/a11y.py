"""axe-core accessibility checks in the browser tests (the axe build bundled by
axe-playwright-python, injected into the page under test; nothing is downloaded)."""

from __future__ import annotations

from typing import Any

#: Standards checked: WCAG 2.1 A and AA, as the project promises.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}

#: True once no request indicator is fading in or out. An indicator fades in 150 ms after a
#: request starts and out when it ends; axe measuring its colour half-way through the fade
#: reports a contrast the reader never sees at rest (CI caught "Updating…" at partial opacity).
INDICATORS_AT_REST = """() => [...document.querySelectorAll('.htmx-indicator')].every((element) => {
  const opacity = getComputedStyle(element).opacity;
  return (opacity === '0' || opacity === '1') && element.getAnimations().length === 0;
})"""


def axe_violations(page: Any, context: str | None = None) -> list[str]:
    """Every axe violation on ``page`` (or inside the CSS selector ``context``), one line each:
    rule id, impact and the first offending elements. An empty list means clean. Waits until
    every request indicator is at rest, so a fade in progress is not measured as low contrast."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_function(INDICATORS_AT_REST)
    results = Axe().run(page, context=context, options=AXE_OPTIONS)
    lines = []
    for violation in results.response["violations"]:
        targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} - {targets}")
    return lines
