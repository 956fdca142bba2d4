"""The three layers of DESIGN.md section 1, checked by parsing every module's imports.

Nothing under memviz/ outside memviz/ui/ imports streamlit; the core (everything
but memviz/figures/ and memviz/ui/) never imports memviz.figures or memviz.ui.
No function in memviz/ui/ is longer than 80 lines (issue 12: pages read top to bottom).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "memviz"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_UI_FUNCTION_LINES = 80


def imported_modules(path: Path) -> set[str]:
    """Every module an import statement names (anywhere in the file, also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def layer(path: Path) -> str:
    part = path.relative_to(PACKAGE).parts[0]
    return part if part in ("figures", "ui") else "core"


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_down(path):
    imports = imported_modules(path)
    if layer(path) != "ui":
        assert not [n for n in imports if _under(n, "streamlit")], f"{path} imports streamlit outside memviz/ui"
    if layer(path) == "core":
        upward = sorted(n for n in imports if _under(n, "memviz.figures") or _under(n, "memviz.ui"))
        assert not upward, f"{path} (core) imports {upward}"


def test_the_parser_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from memviz.figures.theme import to_plotly\n    import streamlit as st\n")
    assert {"memviz.figures.theme", "streamlit"} <= imported_modules(source)


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        f"{path.name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_UI_FUNCTION_LINES
    ]


def test_no_ui_function_is_longer_than_80_lines():
    found = [f for path in sorted((PACKAGE / "ui").rglob("*.py")) for f in long_functions(path)]
    assert not found, found
