"""The layers hold: each package imports only the ones below it, and only geodata/bus/ adds to the incident stream.

grid/ and video/ import no other package of the project; geodata/ imports grid/ and video/;
dashboard/ and workers/ import geodata/, grid/ and video/ and not each other, except that modules
under workers/cli/ may use the dashboard (start it, render its printable report). Every import counts:
at module level or inside a function, `import x.y` or `from x import y`, relative ones resolved,
`importlib.import_module("x")` with a literal name. The README's "Layout" section states the same rules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("grid", "video", "geodata", "workers", "dashboard")
PROJECT = frozenset({*CHECKED, "tests", "benchmarks", "scripts"})
MAY_IMPORT = {
    "grid": {"grid"},
    "video": {"video"},
    "geodata": {"geodata", "grid", "video"},
    "workers": {"workers", "geodata", "grid", "video"},
    "dashboard": {"dashboard", "geodata", "grid", "video"},
}
CLI = ("workers", "cli")
BUS = ("geodata", "bus")
INCIDENT_STREAM_NAME = "INCIDENT_STREAM"
INCIDENT_STREAM_KEY = "gridwatch:incidents"
# Redis commands that only read a stream: the incident stream's name may be passed to these.
STREAM_READS = frozenset({"xrange", "xrevrange", "xlen", "xread", "xreadgroup", "xpending", "xpending_range",
                          "xinfo_stream", "xinfo_groups", "xinfo_consumers"})


def _imported(node: ast.AST, parts: tuple[str, ...]) -> list[str]:
    """Dotted names of the modules an import node (or importlib call) brings in, relative ones resolved."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level == 0:
            return [node.module or ""]
        # `.` is the module's own package (for a/b/c.py and a/b/__init__.py alike: a.b), `..` its parent.
        package = parts[:-1]
        base = list(package[: len(package) - (node.level - 1)])
        if node.module:
            return [".".join([*base, node.module])]
        # `from .. import x`: each name may be a module of that package (or a top-level one).
        return [".".join([*base, alias.name]) for alias in node.names]
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
            and isinstance(node.args[0].value, str):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name in ("import_module", "__import__"):
            return [node.args[0].value]
    return []


def import_violations(relpath: str, source: str) -> list[str]:
    """Each import of `source` (the module at `relpath`) that its package must not make, as "file:line: why"."""
    parts = tuple(Path(relpath).with_suffix("").parts)
    layer = parts[0]
    allowed = MAY_IMPORT[layer] | ({"dashboard"} if parts[:2] == CLI else set())
    out = []
    for node in ast.walk(ast.parse(source, relpath)):
        for name in _imported(node, parts):
            top = name.split(".")[0]
            if top in PROJECT and top not in allowed:
                out.append(f"{relpath}:{node.lineno}: imports {name} "
                           f"({'/'.join(parts[:2]) if parts[:2] == CLI else layer}/ may import only "
                           f"{', '.join(sorted(allowed))})")
    return sorted(out, key=_line)


def _line(violation: str) -> int:
    return int(violation.split(":")[1])


def _reads_stream(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    if isinstance(parent, ast.keyword):
        parent = parents.get(parent)
    return (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute)
            and parent.func.attr in STREAM_READS and node is not parent.func)


def stream_violations(relpath: str, source: str) -> list[str]:
    """Each place of `source` outside geodata/bus/ that could add to the incident stream, as "file:line: why"."""
    parts = tuple(Path(relpath).with_suffix("").parts)
    if parts[:2] == BUS:
        return []
    tree = ast.parse(source, relpath)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.lower() == "xadd":
            out.append(f"{relpath}:{node.lineno}: calls .{node.func.attr}() (only geodata/bus/ writes streams: "
                       "use geodata.bus.publish_incident)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip().lower() == "xadd":
            out.append(f"{relpath}:{node.lineno}: sends the XADD command (only geodata/bus/ writes streams)")
        elif ((isinstance(node, ast.Name) and node.id == INCIDENT_STREAM_NAME)
              or (isinstance(node, ast.Attribute) and node.attr == INCIDENT_STREAM_NAME)
              or (isinstance(node, ast.Constant) and node.value == INCIDENT_STREAM_KEY)) \
                and not _reads_stream(node, parents):
            out.append(f"{relpath}:{node.lineno}: uses the incident stream's name other than to read it "
                       "(geodata.bus.publish_incident is the one door)")
    return sorted(out, key=_line)


def _modules() -> list[Path]:
    return sorted(p for pkg in CHECKED for p in (ROOT / pkg).rglob("*.py") if ".venv" not in p.parts)


def test_every_package_imports_only_the_layers_below_it():
    modules = _modules()
    assert len(modules) > 100 and {m.relative_to(ROOT).parts[0] for m in modules} == set(CHECKED)
    found = [v for m in modules for v in import_violations(str(m.relative_to(ROOT)), m.read_text(encoding="utf-8"))]
    assert not found, "imports across the layers:\n" + "\n".join(found)


def test_only_the_bus_adds_to_the_incident_stream():
    found = [v for m in _modules() for v in stream_violations(str(m.relative_to(ROOT)), m.read_text(encoding="utf-8"))]
    assert not found, "writes to the incident stream outside geodata/bus/:\n" + "\n".join(found)


# ---- the checks bite: small sources with known answers ---------------------------------------------

@pytest.mark.parametrize("relpath, source, expected", [
    ("geodata/x.py", "import grid.lifecycle\nfrom video import config\n", []),
    ("geodata/x.py", "def f():\n    from workers.bus import publish_live\n", ["geodata/x.py:2: imports workers.bus"]),
    ("grid/x.py", "import geodata.db\n", ["grid/x.py:1: imports geodata.db"]),
    ("video/x.py", "import numpy\nimport cv2\n", []),
    ("dashboard/x.py", "x = 1\n\nclass A:\n    def f(self):\n        import workers.analysis_report as r\n",
     ["dashboard/x.py:5: imports workers.analysis_report"]),
    ("workers/x.py", "from dashboard import app\n", ["workers/x.py:1: imports dashboard"]),
    ("workers/cli/x.py", "from dashboard.app import create_app\n", []),
    ("workers/cli/sub/x.py", "import dashboard.pages.reports.page\n", []),
    ("workers/clix.py", "import dashboard\n", ["workers/clix.py:1: imports dashboard"]),
    ("workers/x.py", "from tests.dashboard import griddata\n", ["workers/x.py:1: imports tests.dashboard"]),
    # Relative imports resolve against the module's own package.
    ("geodata/bus/stream.py", "from . import messages\nfrom ..db import connect\n", []),
    ("dashboard/pages/console/analysis.py", "from ...live import LiveHub\n", []),
    ("dashboard/pages/x.py", "from ... import workers\n", ["dashboard/pages/x.py:1: imports workers"]),
    ("workers/__init__.py", "from .cli import main\n", []),
    ("geodata/__init__.py", "from ..workers import analysis\n", ["geodata/__init__.py:1: imports workers"]),
    ("video/x.py", "import importlib\nm = importlib.import_module('geodata.db')\n",
     ["video/x.py:2: imports geodata.db"]),
])
def test_import_check_on_snippets(relpath, source, expected):
    found = import_violations(relpath, source)
    assert len(found) == len(expected), found
    for got, want in zip(found, expected):
        assert got.startswith(want + " "), (got, want)


@pytest.mark.parametrize("relpath, source, lines", [
    ("dashboard/x.py", "def report(r, d):\n    r.xadd('gridwatch:incidents', {'data': d})\n", [2, 2]),
    ("workers/x.py", "from geodata.bus import INCIDENT_STREAM\n\nwith r.pipeline() as p:\n    p.xadd(S, {})\n", [4]),
    ("workers/x.py", "r.execute_command('XADD', 'gridwatch:incidents', '*', 'data', d)\n", [1, 1]),
    ("workers/x.py", "from geodata import bus\nstream = bus.INCIDENT_STREAM\n", [2]),
    ("dashboard/x.py", "from geodata.bus import INCIDENT_STREAM as S\n", []),
    ("dashboard/x.py", "n = r.xlen(INCIDENT_STREAM)\nrows = r.xrange(name=INCIDENT_STREAM, count=5)\n", []),
    ("dashboard/x.py", '"""Reports go on `gridwatch:incidents` via the bus (XADD)."""\n', []),
    ("geodata/bus/stream.py", "pipe.xadd(DEAD_STREAM, {})\nr.xadd(INCIDENT_STREAM, {})\n", []),
    ("geodata/x.py", "r.xadd(INCIDENT_STREAM, {})\n", [1, 1]),
])
def test_stream_check_on_snippets(relpath, source, lines):
    found = stream_violations(relpath, source)
    assert [_line(v) for v in found] == lines, found
    assert all(v.startswith(relpath + ":") for v in found)
