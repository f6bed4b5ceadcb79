"""The CLI is a thin shell: it parses, calls the API and prints. No function in fer_edge/cli is over 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "fer_edge" / "cli"
MAX_LINES = 60


def test_no_cli_function_is_over_60_lines():
    long = []
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_LINES:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "CLI functions over 60 lines: " + ", ".join(long)
