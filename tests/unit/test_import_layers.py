"""Imports point one way: the server's modules in layers, each importing only its own layer and those below, every
import at the top of its module, and each server package importable alone in a fresh interpreter."""

import ast
import fnmatch
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

# The server's layers, lowest first. A module belongs to the layer of the most specific entry naming it: its own
# name, a pattern such as server.*.views, else its package (server.areas for server.areas.operations).
LAYERS = [
    ("core", ["server.extensions", "server.config", "server.clock", "server.database", "server.storage",
              "server.boundary", "server.lookup_cache", "server.principal", "server.replica",
              "server.schedules.current"]),   # the schedule in force: the town's time zone, which the clock reads
    # The audit log's table and writer: every layer above records what people read and did.
    ("audit log", ["server.audit.models", "server.audit.queries"]),
    ("areas", ["server.areas"]),
    ("users", ["server.users"]),                  # accounts' tables, credentials, look-ups, sign-in throttle
    ("accounts", ["server.accounts"]),            # signing staff in, their sessions, the signed-in staff member
    ("audit page", ["server.audit"]),             # reading the log with the users' names
    ("forms", ["server.forms"]),
    ("submissions", ["server.submissions"]),      # intake: the raw store and the merge queue it feeds
    ("register", ["server.register"]),
    # What a person's consent covers: read by the pages of visits (below them), recorded on the person's page.
    ("consent", ["server.privacy.consent*"]),
    ("services", ["server.services"]),            # the service record: its items as they stand, its registers
    ("registers", ["server.registers"]),          # the village's named registers (登记册): pages and workbooks
    ("corrections", ["server.corrections"]),      # corrections, tiers and new members entered on the web
    ("moves", ["server.moves"]),                  # people who move: expected arrivals, departures, moves recorded
    ("schedules", ["server.schedules"]),
    ("exports", ["server.exports"]),
    ("archive", ["server.archive"]),              # reports as they were submitted or filed, byte for byte
    ("rechecks", ["server.rechecks"]),            # re-check samples and what a re-check found (准确率)
    ("months", ["server.months"]),                # a village's month signed off, submitted, returned, accepted
    ("monitoring", ["server.monitoring"]),        # each collector's syncs, form downloads, phone and work
    ("indicators", ["server.indicators"]),        # the indicators the town is judged on (docs/indicators.md)
    ("meetings", ["server.meetings"]),            # the monthly meeting sheet, the quarterly and yearly reviews
    ("home", ["server.home"]),                    # the home pages: a cadre's to-do, the town and county dashboards
    ("notices", ["server.notices"]),              # service notices (协查通报) between town offices (docs/notices.md)
    ("copies", ["server.copies"]),                # a person's own copy (本人信息副本): requests, copies, hand-overs
    ("openrosa", ["server.openrosa"]),            # Collect's protocol: authentication, uploads, manifests, formats
    ("replication", ["server.replication"]),
    ("blobs", ["server.blobs"]),
    ("backup", ["server.backup"]),
    ("privacy", ["server.privacy"]),              # privacy by design (issue 21): retention and the purge
    # Blueprints and the error pages: what a request reaches; nothing below imports them.
    ("web", ["server.*.views", "server.errors", "server.models", "server.templating"]),
    ("app factory", ["server"]),
    ("entry points", ["server.wsgi", "server.cli", "server.demo", "server.migrations"]),
]
LAYER_OF_ENTRY = {entry: rank for rank, (_, entries) in enumerate(LAYERS) for entry in entries}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(*packages: str) -> dict[str, Path]:
    return {_module_name(path): path for package in packages for path in sorted((ROOT / package).rglob("*.py"))}


SERVER = _modules("server")


def layer(module: str) -> int:
    """The rank of a server module's layer (KeyError for a module no entry names)."""
    if module in LAYER_OF_ENTRY:
        return LAYER_OF_ENTRY[module]
    patterns = [entry for entry in LAYER_OF_ENTRY if "*" in entry and fnmatch.fnmatchcase(module, entry)]
    if patterns:
        return LAYER_OF_ENTRY[max(patterns, key=lambda entry: entry.count("."))]
    parts = module.split(".")
    for depth in range(len(parts) - 1, 1, -1):
        if ".".join(parts[:depth]) in LAYER_OF_ENTRY:
            return LAYER_OF_ENTRY[".".join(parts[:depth])]
    raise KeyError(module)


def _imports(module: str, path: Path):
    """(imported module, line, inside a function) for every import of a module, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, inside) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:  # `from server import clock` imports the module server.clock
                    name = f"{base}.{alias.name}"
                    found.append((name if name in SERVER else base, child.lineno, inside))
            walk(child, inside)

    walk(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _server_imports(module: str, path: Path):
    for target, line, inside in _imports(module, path):
        if target == "server" or target.startswith("server."):
            while target not in SERVER:  # `import server.x.name` of a name: the module that defines it
                target = target.rpartition(".")[0]
            yield target, line


def test_every_server_module_has_a_layer():
    unplaced = []
    for module in SERVER:
        try:
            layer(module)
        except KeyError:
            unplaced.append(module)
    assert unplaced == [], "add these modules to LAYERS in tests/unit/test_import_layers.py"


def test_no_module_imports_a_higher_layer():
    upward = [f"{module}:{line} imports {target} ({LAYERS[layer(target)][0]} is above {LAYERS[layer(module)][0]})"
              for module, path in SERVER.items() for target, line in _server_imports(module, path)
              if layer(target) > layer(module)]
    assert upward == []


def test_no_import_cycle_between_modules():
    graph = {module: {target for target, _ in _server_imports(module, path) if target != module}
             for module, path in SERVER.items()}
    # A module's package __init__ runs before it; only the app factory's (server) imports anything.
    done, on_path, cycles = set(), [], []

    def visit(module):
        if module in on_path:
            cycles.append(on_path[on_path.index(module):] + [module])
            return
        if module in done:
            return
        on_path.append(module)
        for target in sorted(graph[module]):
            visit(target)
        on_path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert cycles == []


def test_imports_sit_at_the_top_of_modules():
    inner = [f"{module}:{line} imports {target} inside a function"
             for module, path in _modules("server", "sync", "reports").items()
             for target, line, inside in _imports(module, path) if inside]
    assert inner == []


def test_sync_and_reports_stand_without_flask_or_the_server():
    leaning = [f"{module}:{line} imports {target}"
               for module, path in _modules("sync", "reports").items()
               for target, line, _ in _imports(module, path) if target.split(".")[0] in ("server", "flask")]
    assert leaning == []


# The packages below the app factory (the entry points above it import it, as test_the_app_package_imports_alone does).
PACKAGES = sorted(module for module, path in SERVER.items()
                  if path.name == "__init__.py" and module.count(".") == 1 and module != "server.migrations"
                  and layer(module) < LAYER_OF_ENTRY["server"])

# `import server.x` runs server/__init__ (the app factory, which imports every blueprint) first; to import a package
# alone, a child interpreter stands in an empty `server` package and imports every module of that package. One child
# imports the libraries the server uses (never a module of ours) and forks once per package: each fork starts with
# none of our modules loaded, as a fresh interpreter would, without paying an interpreter's start-up each time.
ALONE = """
import importlib, os, sys, traceback, types
for library in {libraries!r}:
    try:
        importlib.import_module(library)
    except Exception:
        pass
assert not any(name == "server" or name.startswith(("server.", "sync.", "reports.")) or name in ("sync", "reports")
               for name in sys.modules)
children = {{}}
for package, modules in {packages!r}.items():
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        server = types.ModuleType("server")
        server.__path__ = [{server_dir!r}]
        sys.modules["server"] = server
        try:
            for name in modules:
                importlib.import_module(name)
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            os._exit(1)
        os._exit(0)
    os.close(write)
    children[package] = (child, read)
failed = {{}}
for package, (child, read) in children.items():
    with os.fdopen(read, "rb") as pipe:
        error = pipe.read().decode()
    _, status = os.waitpid(child, 0)
    if status:
        failed[package] = error or f"exit status {{status}}"
print(repr(failed))
"""

_OURS = ("server", "sync", "reports", "xlsforms", "tests", "bench")


def _libraries() -> list[str]:
    """The third-party and standard library modules our modules import."""
    return sorted({target for module, path in _modules("server", "sync", "reports").items()
                   for target, _, _ in _imports(module, path) if target and target.split(".")[0] not in _OURS})


def test_each_package_imports_alone():
    packages = {package: [module for module in SERVER if (module == package or module.startswith(package + "."))
                          and not module.endswith(".__main__")]   # (running it is what importing a __main__ does)
                for package in PACKAGES}
    script = ALONE.format(server_dir=str(ROOT / "server"), packages=packages, libraries=_libraries())
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "{}"


def test_the_app_package_imports_alone():
    run = subprocess.run([sys.executable, "-c", "import server.wsgi"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
