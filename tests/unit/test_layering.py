"""Imports point one way (bot -> ui -> plugins -> memory), and the plugin needs no web stack."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "memory": {"interest_bot.plugins", "interest_bot.bot", "interest_bot.ui", "torch", "transformers", "gradio", "fastapi"},
    "plugins": {"interest_bot.bot", "interest_bot.ui", "gradio", "fastapi", "uvicorn", "starlette"},
    "ui": {"interest_bot.bot", "fastapi"},
}


def _imports(path: Path, type_only: bool = True) -> set[str]:
    """The modules a file imports, anywhere in it (type_only=False: not those inside `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text())
    skip = set() if type_only else {
        id(child) for node in ast.walk(tree) if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING" for child in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            package = ["interest_bot", *path.relative_to(ROOT).parent.parts]
            base = package[: len(package) - (node.level - 1)]
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from . import lexicon`: a module too
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_points_the_wrong_way(package: str) -> None:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package]):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_plugin_imports_without_the_web_stack() -> None:
    """Importing the plugin (and memory) works when gradio, fastapi and uvicorn can't be imported."""
    code = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'gradio', 'fastapi', 'uvicorn', 'starlette', 'typer', 'pydantic_settings'}:
            raise ImportError('blocked in this test: ' + name)
sys.meta_path.insert(0, Block())
import interest_bot.plugins.interest, interest_bot.memory
import interest_bot.plugins.interest.encoding.encoder
print('ok', sorted(m for m in sys.modules if m.split('.')[0] in {'gradio', 'fastapi'}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok []"


def test_a_core_install_can_ingest_without_the_cli() -> None:
    """The plugin's ingest imports when typer and the web stack can't be imported (a core-only install has neither;
    pydantic_settings it does have, through chromadb)."""
    code = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'gradio', 'fastapi', 'uvicorn', 'starlette', 'typer'}:
            raise ImportError('blocked in this test: ' + name)
sys.meta_path.insert(0, Block())
from interest_bot.plugins.interest import InterestPlugin, ingest_catalog
print('ok', callable(ingest_catalog), callable(InterestPlugin.ingest))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok True True"


def _plugin_import_graph() -> dict[str, set[str]]:
    """Module -> the plugin modules it imports, at module level or inside functions (type-only imports left out)."""
    top = ROOT / "plugins" / "interest"
    names = {p: ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in top.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path, name in names.items():
        found = {n.removeprefix("interest_bot.") for n in _imports(path, type_only=False)}
        graph[name] = found & set(names.values()) - {name}
    return graph


def test_the_plugin_has_no_import_cycles() -> None:
    """No plugin module reaches itself through imports (the encoder and its ONNX builder once imported each other)."""
    graph = _plugin_import_graph()
    assert "plugins.interest.encoding.onnx_encoder" in graph["plugins.interest.encoding.onnx_int8"]
    cycles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" -> ".join([*trail, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
    assert not cycles, "\n".join(sorted(cycles)[:10])
