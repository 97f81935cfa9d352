"""The shape of the code: stages import only earlier stages, nothing that runs models imports
training or evaluation, no import cycles, no module too long to read top to bottom."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("documents", "records", "entities", "relations", "claims", "verdicts", "outputs")
SHARED = {"pipeline", "pipeline.config", "pipeline.datatypes", "pipeline.corpora", "pipeline.models",
          "pipeline.codehash", "pipeline.safexml"}  # what any stage may import
BESIDE = ("pipeline.training", "pipeline.evaluation")  # may import every stage; only they and the CLI import them
WIRING = {"flows.cli", "flows.evaluate"}  # the CLI wires the training and evaluation commands
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for folder in ("pipeline", "flows") for p in sorted((ROOT / folder).rglob("*.py"))}


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `path` imports anywhere in it (function-local imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module)
    return {name for name in found if name in known}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, known) - {name} for name, path in known.items()}


def stage(module: str) -> int | None:
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[0] == "pipeline" and parts[1] in STAGES else None


def test_no_import_cycles() -> None:
    edges, state, cycles = graph(), {}, []

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_modules_are_short() -> None:
    lengths = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def test_only_training_evaluation_and_the_cli_import_training_and_evaluation() -> None:
    offenders = {(name, dep) for name, deps in graph().items() for dep in deps
                 if dep.startswith(BESIDE) and not name.startswith(BESIDE) and name not in WIRING}
    assert offenders == set()


def test_stages_import_only_earlier_stages() -> None:
    offenders = set()
    for name, deps in graph().items():
        own = stage(name)
        if own is None:
            continue
        for dep in deps:
            theirs = stage(dep)
            if dep not in SHARED and (theirs is None or theirs > own):
                offenders.add((name, dep))
    assert offenders == set()
