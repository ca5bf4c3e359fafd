"""axe-core in the browser tests: a page's serious and critical accessibility violations.

axe runs in the page through Playwright's evaluate (the DevTools protocol), which
the pages' Content-Security-Policy does not govern, so the pages need no
exception for it. The rules are axe's WCAG 2.1 A/AA set plus its best practices.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
RUN_AXE = """async () => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"],
  });
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}"""


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def blocking_violations(page) -> list[str]:
    """Each serious or critical violation on ``page`` as one readable line (empty when there is none)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source() + "\n;true")
    violations = page.evaluate(RUN_AXE)
    return [f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['targets'])}"
            for v in violations if v["impact"] in BLOCKING]
