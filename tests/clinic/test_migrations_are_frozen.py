"""Data migrations carry their own data: they read nothing from live code that a later change could edit.

A data migration that imported, say, the due engine's standard schedules would
install whatever those numbers are on the day a fresh database is made, so a
new clinic would silently differ from every existing one.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("clinic", "patients", "protocols", "scheduling")


def _project_imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return sorted(name for name in names if name.split(".")[0] in APPS)


def _data_migrations() -> list[Path]:
    return sorted(path for app in APPS for path in (ROOT / app / "migrations").glob("0*.py")
                  if "RunPython" in path.read_text())


def test_the_walk_finds_the_data_migrations():
    assert ROOT / "protocols" / "migrations" / "0002_standard_protocols.py" in _data_migrations()


def test_no_data_migration_imports_the_projects_own_code():
    live = {str(path.relative_to(ROOT)): imports for path in _data_migrations() if (imports := _project_imports(path))}
    assert live == {}
