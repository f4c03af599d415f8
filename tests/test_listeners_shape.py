"""Listeners stay a few lines (issue 13, "Listeners by surface"): every function in
bot/listeners/ has a body of at most MAX_BODY lines, and only the Actor asks the
access Gate — no listener decides access on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LISTENERS = Path(__file__).resolve().parent.parent / "bot" / "listeners"
MAX_BODY = 15


def long_functions(path: Path) -> list[str]:
    """Functions (nested ones too) whose body, docstring aside, runs over MAX_BODY lines."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if ast.get_docstring(node) is not None and len(node.body) > 1 else node.body
            lines = body[-1].end_lineno - body[0].lineno + 1
            if lines > MAX_BODY:
                found.append(f"{node.name} (line {node.lineno}): {lines} lines")
    return found


def gate_calls(path: Path) -> list[int]:
    """Lines that reach for the Gate (`….gate`) rather than the Actor."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and node.attr == "gate":
            calls.append(node.lineno)
    return calls


def modules() -> list[Path]:
    return sorted(LISTENERS.glob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_no_listener_module_function_is_long(path):
    assert long_functions(path) == []


@pytest.mark.parametrize("path", [p for p in modules() if p.name != "actor.py"], ids=lambda p: p.name)
def test_only_the_actor_asks_the_gate(path):
    assert gate_calls(path) == [], f"{path.name} asks the access Gate itself; take `actor` instead"


def test_the_checkers_see_a_long_function_and_a_gate_call(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("def listener(ack, actor):\n    '''doc'''\n" + "    ack()\n" * 16
                      + "    if actor.deps.gate.refusal('U1'):\n        return\n")
    assert long_functions(module) == ["listener (line 1): 18 lines"]
    assert gate_calls(module) == [19]
    assert len(modules()) >= 7  # the surfaces, the actor and the answers
