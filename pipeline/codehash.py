"""Cache keys from the code a result depends on, not from the files that code sits in.

A key that hashed module files changed whenever code moved between files or an import
line changed, forcing users to rebuild the KB or retrain models (35 minutes) for nothing.
`code_hash` hashes each definition's syntax tree instead, without import statements,
docstrings and comments, and sorts the definitions, so moving a definition among the
hashed modules, reordering them or editing imports and comments leaves the key as it was.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

Part = ModuleType | type | Callable[..., object] | Path | tuple[ModuleType, str]
# CPython 3.11's parser is not safe to enter from two threads at once ("AST constructor recursion
# depth mismatch"), and flow tasks compute their cache keys in threads.
_PARSING = threading.Lock()


def code_hash(*parts: Part) -> str:
    """A short hash of `parts`: modules (every top-level definition), classes and functions,
    (module, "NAME") for one module-level constant, and data files (their bytes)."""
    statements: list[str] = []
    files = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            files.update(part.read_bytes())
        elif isinstance(part, tuple):
            module, name = part
            statements += [s for s, names in _statements(module) if name in names]
        else:
            statements += [s for s, _ in _statements(part)]
    digest = hashlib.sha256("\0".join(sorted(statements)).encode())
    digest.update(files.digest())
    return digest.hexdigest()[:12]


def _statements(obj: ModuleType | type | Callable[..., object]) -> list[tuple[str, set[str]]]:
    """Each top-level statement of `obj`'s source, normalized, with the names it assigns."""
    with _PARSING:
        tree = _WithoutImportsAndDocstrings().visit(ast.parse(textwrap.dedent(inspect.getsource(obj))))
    found = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names = {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)} \
            | {getattr(node, "name", "")}
        found.append((ast.unparse(node), names))
    return found


class _WithoutImportsAndDocstrings(ast.NodeTransformer):
    """Drops imports (they say where code lives, not what it does) and docstrings."""

    def visit_Import(self, node: ast.Import) -> None:
        return None

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        return None

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        body = getattr(node, "body", None)
        if isinstance(body, list):
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                body.pop(0)
            if not body and not isinstance(node, ast.Module):
                body.append(ast.Pass())
        return node
