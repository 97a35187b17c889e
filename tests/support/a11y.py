"""axe-core accessibility checks in the browser tests (the axe build bundled by
axe-playwright-python, injected into the page under test; nothing is downloaded)."""

from __future__ import annotations

from typing import Any

#: Standards checked: WCAG 2.1 A and AA, as the project promises.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}


def axe_violations(page: Any, context: str | None = None) -> list[str]:
    """Every axe violation on ``page`` (or inside the CSS selector ``context``), one line each:
    rule id, impact and the first offending elements. An empty list means clean."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context, options=AXE_OPTIONS)
    lines = []
    for violation in results.response["violations"]:
        targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} - {targets}")
    return lines
