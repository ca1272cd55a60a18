"""The layering DESIGN.md promises: services and backends never need Flask, and no import loops."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "FlaskApp" / "photogallery"
BLOCK_FLASK = """
import importlib.abc, sys
class NoFlask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "flask" or name.startswith(("flask.", "flask_")):
            raise ImportError(f"{name} imported outside the web layer")
sys.meta_path.insert(0, NoFlask())
import importlib
for module in sys.argv[1:]:
    importlib.import_module(module)
"""


def test_services_and_backends_import_with_flask_blocked():
    modules = ["photogallery.backends"] + [
        f"photogallery.services.{path.stem}"
        for path in sorted((PACKAGE / "services").glob("*.py"))
        if path.stem != "__init__"
    ]
    # The package's __init__ builds the Flask app, so load the subpackages without it.
    prelude = (
        "import sys, types; pkg = types.ModuleType('photogallery'); "
        f"pkg.__path__ = [{str(PACKAGE)!r}]; sys.modules['photogallery'] = pkg\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + BLOCK_FLASK, *modules], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _imports(path: Path) -> set[str]:
    """What ``path`` imports from the package, inside functions too (a loop hidden in a function
    is still a loop), but not under ``if TYPE_CHECKING:`` (type hints only)."""
    tree = ast.parse(path.read_text())
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts
    hints_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level and id(node) not in hints_only:
            base = package[: len(package) - node.level]
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def test_no_two_modules_import_each_other():
    modules = {
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
        for p in PACKAGE.rglob("*.py")
    }
    graph = {name: _imports(path) & modules.keys() for name, path in modules.items()}
    loops = sorted(
        (a, b) for a, targets in graph.items() for b in targets if a < b and a in graph.get(b, ())
    )
    assert loops == []
