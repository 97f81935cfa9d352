"""Cache keys from the code a result depends on, not from the files that code sits in.

A key that hashed module files changed whenever code moved between files or an import
line changed, forcing users to rebuild the KB or retrain models (35 minutes) for nothing.
`code_hash` hashes each definition's syntax tree instead, without import statements,
docstrings and comments, and sorts the definitions, so moving a definition among the
hashed modules, reordering them or editing imports and comments leaves the key as it was.

Which modules a result depends on is found, not listed: `closure_hash` hashes every module of
the package that the code computing it imports, directly or through each other
(`import_closure`), so a rule added to a module it reads, or a module it newly imports, is in
the key by construction.
"""
from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import inspect
import json
import os
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

Part = ModuleType | type | Callable[..., object] | Path | tuple[ModuleType, str]
# CPython 3.11's parser is not safe to enter from two threads at once ("AST constructor recursion
# depth mismatch"), and flow tasks compute their cache keys in threads.
_PARSING = threading.Lock()
Statements = list[tuple[str, set[str]]]  # each normalized, with the names it assigns
# what _read found in each version of a module file
_READ: dict[tuple[str, int, int], tuple[list[str], Statements]] = {}


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


Root = ModuleType | type | Callable[..., object] | str  # str: a module's name


def import_closure(*roots: Root, package: str = "pipeline") -> list[ModuleType]:
    """The modules of `package` that the roots' modules import, at the top or inside a function,
    directly or through each other, with the roots' own: all the package code they can run.
    Modules not imported yet come as stand-ins that only name their file (see `_module`)."""
    found: dict[str, ModuleType] = {}
    waiting = [_module(root) if isinstance(root, str) else root if isinstance(root, ModuleType)
               else inspect.getmodule(root) for root in roots]
    while waiting:
        module = waiting.pop()
        if module is None or module.__name__ in found:
            continue
        found[module.__name__] = module
        waiting += [m for name in _read(module)[0] if name.split(".")[0] == package
                    and (m := _module(name)) is not None]
    return [found[name] for name in sorted(found)]


def closure_hash(*roots: Root) -> str:
    """`code_hash` of the roots' `import_closure`: the key of what they compute."""
    return code_hash(*import_closure(*roots))


def _module(name: str) -> ModuleType | None:
    """The module `name` names, or None for a name imported from a module ("pipeline.x.function").
    One not imported yet is found on disk, not run: a stand-in with its `__file__`, all that
    hashing reads, so that computing a key never imports the libraries the code imports (a cached
    run that never runs a model need not import spaCy)."""
    if name in sys.modules:
        return sys.modules[name]
    file = _module_file(name)
    if file is None:
        return None
    stand_in = ModuleType(name)
    stand_in.__file__ = str(file)
    return stand_in


def _module_file(name: str) -> Path | None:
    """Where the import system would find module `name`, found without importing it."""
    top, *rest = name.split(".")
    spec = importlib.util.find_spec(top)  # a top-level name: imports nothing
    if spec is None or not rest:
        return Path(spec.origin) if spec and spec.origin else None
    for folder in spec.submodule_search_locations or []:
        path = Path(folder).joinpath(*rest)
        for file in (path.with_name(f"{path.name}.py"), path / "__init__.py"):
            if file.is_file():
                return file
    return None


def _statements(obj: ModuleType | type | Callable[..., object]) -> Statements:
    """Each top-level statement of `obj`'s source, normalized, with the names it assigns."""
    return _read(obj)[1] if isinstance(obj, ModuleType) else _parsed(inspect.getsource(obj))[1]


def _read(module: ModuleType) -> tuple[list[str], Statements]:
    """What `_parsed` finds in a module, its file parsed once per version (keys are computed for
    every task, and parsing costs a cached run more than the rest of its keys)."""
    if not module.__file__:
        return _parsed(inspect.getsource(module))
    stat = Path(module.__file__).stat()
    key = (module.__file__, stat.st_mtime_ns, stat.st_size)
    if key not in _READ:
        _READ[key] = _stored(Path(module.__file__))
    return _READ[key]


def _stored(file: Path) -> tuple[list[str], Statements]:
    """`_parsed` of a module file, kept beside its bytecode (`__pycache__/NAME.codehash.json`) for
    the next process: parsing the ~60 modules a run's keys read took a cached `litmine run` 1-2.5 s
    of its 4-8. Keyed by the source's bytes and Python's version (`ast.unparse` may differ between
    versions); a folder that cannot be written just means parsing each time."""
    source = file.read_bytes()
    digest = hashlib.sha256(source + sys.version.encode()).hexdigest()
    kept = file.parent / "__pycache__" / f"{file.stem}.codehash.json"
    try:
        saved = json.loads(kept.read_text(encoding="utf-8"))
        if saved["digest"] == digest:
            return saved["imported"], [(statement, set(names)) for statement, names in saved["statements"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    imported, statements = _parsed(source.decode("utf-8"))
    temporary = kept.with_name(f".{kept.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        kept.parent.mkdir(exist_ok=True)
        temporary.write_text(json.dumps({"digest": digest, "imported": imported,
                                         "statements": [(s, sorted(names)) for s, names in statements]}))
        os.replace(temporary, kept)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
    return imported, statements


def _parsed(source: str) -> tuple[list[str], Statements]:
    """The names the source's import statements name, anywhere in it (modules or names in them),
    and its top-level statements."""
    imported = []
    with _PARSING:
        tree = ast.parse(textwrap.dedent(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        tree = _WithoutImportsAndDocstrings().visit(tree)
    found = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names = {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)} \
            | {getattr(node, "name", "")}
        found.append((ast.unparse(node), names))
    return imported, found


class _WithoutImportsAndDocstrings(ast.NodeTransformer):
    """Drops imports (they say where code lives, not what it does), `if TYPE_CHECKING:` blocks
    (names for type checkers; they never run) and docstrings."""

    def visit_Import(self, node: ast.Import) -> None:
        return None

    def visit_If(self, node: ast.If) -> ast.AST | None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return None
        return self.generic_visit(node)

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
