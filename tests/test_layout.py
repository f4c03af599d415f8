"""The one direction of imports (README, Layout): core ← storage ← views ←
commands, jobs ← bot. A module may import its own package and the layers below
it, never one above or beside it; commands and jobs meet in storage and views."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "core": {"core"},
    "storage": {"core", "storage"},
    "views": {"core", "storage", "views"},
    "commands": {"core", "storage", "views", "commands"},
    "jobs": {"core", "storage", "views", "jobs"},
    "bot": {"core", "storage", "views", "commands", "jobs", "bot"},
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """Our top-level packages a module imports, anywhere in it (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {(name.split(".")[0], node.lineno) for name in names if name.split(".")[0] in ALLOWED}
    return found


def modules() -> list[Path]:
    return sorted(p for package in ALLOWED for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_one_way(path):
    package = path.relative_to(ROOT).parts[0]
    wrong = sorted(f"line {line}: {package} imports {target}" for target, line in imported_packages(path)
                   if target not in ALLOWED[package])
    assert not wrong, f"{path.relative_to(ROOT)} breaks the import direction: {wrong}"


def test_the_checker_sees_a_wrong_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from bot.console import render\n")
    assert imported_packages(module) == {("bot", 2)}
