"""The package's import floors (README.md's module table, issue 19): a module imports only from floors below it.

Parses README's floor table and every module's imports (top-level and inside functions) with ``ast``, so the table a
reader trusts cannot drift from the code. Also checks that no module reaches into another's private names, and that
imports inside functions (lazy imports) are kept to the modules whose ``srgan --help`` start-up needs them.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "srgan_lib"
ROW = re.compile(r"^\|\s*(\d+)\s*\|([^|]+)\|")


def floor_table() -> dict[str, int]:
    """Module name -> floor, from the table under README's floor sentence."""
    floors: dict[str, int] = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            for name in re.findall(r"`([a-z_]+)`", m.group(2)):
                assert name not in floors, f"README's floor table lists `{name}` twice"
                floors[name] = int(m.group(1))
    return floors


def module_files() -> dict[str, Path]:
    """Bare module name -> its file, in the package and its subpackages (names are unique across them)."""
    files: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.stem in {"__init__", "__main__"}:
            continue
        assert path.stem not in files, f"two modules named {path.stem}: {files[path.stem]} and {path}"
        files[path.stem] = path
    return files


def package_modules() -> list[str]:
    return sorted(module_files())


def subpackages() -> set[str]:
    return {p.parent.name for p in PACKAGE.glob("*/__init__.py")}


def internal_imports(module: str) -> list[tuple[str, list[str], int, bool]]:
    """(imported module, imported names, line, inside a function) for every srgan_lib import of ``module``.

    Modules are named bare (``viz``, not ``figures.viz``); ``from .. import losses`` imports the module ``losses``."""
    path = module_files()[module]
    here = ["srgan_lib", *path.relative_to(PACKAGE).parent.parts]  # the module's package, as a dotted path
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def record(dotted: list[str], names: list[str], line: int, inside: bool) -> None:
        rest = [p for p in dotted[1:] if p not in subpackages()]
        if rest:  # from srgan_lib.figures.viz import x / from ..train import y
            found.append((rest[-1], names, line, inside))
        else:  # from .. import losses / from srgan_lib.plumbing import cli
            for n in names:
                found.append((n, [], line, inside))

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom):
                names = [a.name for a in child.names]
                if child.level:
                    base = here[:len(here) - child.level + 1]
                    record(base + (child.module.split(".") if child.module else []), names, child.lineno, in_function)
                elif child.module and child.module.split(".")[0] == "srgan_lib":
                    record(child.module.split("."), names, child.lineno, in_function)
            elif isinstance(child, ast.Import):
                for a in child.names:
                    parts = a.name.split(".")
                    if parts[0] == "srgan_lib" and len(parts) > 1:
                        record(parts, [], child.lineno, in_function)
            visit(child, nested)

    visit(tree, False)
    return found


def kinds() -> dict[str, str]:
    """Module name -> "lesson" or "plumbing", from the table's Kind column."""
    found: dict[str, str] = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if ROW.match(line):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            for name in re.findall(r"`([a-z_]+)`", cells[1]):
                found[name] = cells[2]
    return found


#: The longest a core module may be (README: a learner reads each in one sitting).
CORE_MAX_LINES = 300


def core_modules_over(limit: int = CORE_MAX_LINES) -> list[str]:
    """``"srgan_lib/NAME.py: N lines"`` for each core module (``srgan_lib/*.py`` but __init__/__main__) over ``limit``."""
    over = []
    for path in sorted(PACKAGE.glob("*.py")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if path.stem not in {"__init__", "__main__"} and n > limit:
            over.append(f"{PACKAGE.name}/{path.name}: {n} lines")
    return over


#: Modules that may import other srgan_lib modules inside functions, and why (everything else imports at the top).
LAZY_ALLOWED = {
    "cli": "`srgan --help` must answer without importing torch (each subcommand imports what it runs)",
    "files": "save_image imports torch (through images) only when given a tensor, so reading files needs no torch",
}


def test_every_module_is_in_the_floor_table_once() -> None:
    table = floor_table()
    assert table, "README.md has no floor table (rows '| N | `module` | ...')"
    assert sorted(table) == package_modules(), (
        f"not in README's table: {sorted(set(package_modules()) - set(table))}; "
        f"in the table but not in srgan_lib: {sorted(set(table) - set(package_modules()))}")


def test_imports_go_only_to_lower_floors() -> None:
    table = floor_table()
    wrong = []
    for module in package_modules():
        for target, _, line, _ in internal_imports(module):
            if target in (module, "__version__"):
                continue  # download's own module object; the package version
            assert target in table, f"{module}.py:{line} imports {target!r}, which is not a module"
            if table[target] >= table[module]:
                wrong.append(f"{module}.py:{line}: {module} (floor {table[module]}) imports "
                             f"{target} (floor {table[target]})")
    assert not wrong, "imports against README's floor table:\n" + "\n".join(wrong)


def test_no_private_names_cross_modules() -> None:
    crossing = [f"srgan_lib/{m}.py:{line}: {target}.{name}"
                for m in package_modules() for target, names, line, _ in internal_imports(m)
                for name in names if name.startswith("_") and target != m]
    assert not crossing, "private names imported from another module:\n" + "\n".join(crossing)


def test_lazy_imports_only_where_start_up_needs_them() -> None:
    lazy = [f"srgan_lib/{m}.py:{line} imports {target} inside a function"
            for m in package_modules() if m not in LAZY_ALLOWED
            for target, _, line, inside in internal_imports(m) if inside and target != m]
    assert not lazy, "move these to the top of the module (LAZY_ALLOWED says where lazy imports are kept):\n" + \
        "\n".join(lazy)


def test_plumbing_says_so_and_lessons_name_the_paper() -> None:
    """README's Kind column matches each module's first docstring line: plumbing modules open with "Plumbing, not
    part of the lesson", lesson modules name what of the paper they implement (a section, figure, equation or table)."""
    files = module_files()
    for module, kind in kinds().items():
        path = files[module]
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        where = path.relative_to(PACKAGE).parent.name or "core"
        assert kind == where, f"{module}: README's Kind says {kind!r}, the module is in {where!r}"
        if kind == "plumbing":
            assert doc.startswith("Plumbing, not part of the lesson"), f"{module}: {doc[:80]!r}"
        else:
            assert kind in ("core", "figures"), f"{module}: Kind must be core, figures or plumbing, not {kind!r}"
            assert not doc.startswith("Plumbing"), module
            assert re.search(r"\b(section|Section|Figure|equation|Table|notebook)s? ?\d", doc), \
                f"{module}'s docstring names no section, figure, equation, table or notebook"


def test_core_modules_are_short_enough_to_read_in_one_sitting() -> None:
    over = core_modules_over()
    assert not over, (f"core modules over {CORE_MAX_LINES} lines (move what a learner does not need to plumbing or "
                      "figures): " + "; ".join(over))


def test_the_size_check_names_a_long_module(tmp_path: Path, monkeypatch) -> None:
    """Only top-level modules count, __init__ does not, and 300 lines pass."""
    fake = tmp_path / "srgan_lib"
    (fake / "plumbing").mkdir(parents=True)
    for name, n in {"layers.py": 301, "models.py": 300, "__init__.py": 400, "plumbing/cli.py": 900}.items():
        (fake / name).write_text("x = 1\n" * n, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert core_modules_over() == ["srgan_lib/layers.py: 301 lines"]


@pytest.mark.parametrize("case", ["upward", "private", "lazy"])
def test_the_checks_catch_what_they_are_for(case: str, tmp_path: Path, monkeypatch) -> None:
    """The parser sees the three kinds of violation in a module written for the purpose."""
    source = {"upward": "from .cli import main\n",
              "private": "from .files import _secret\n",
              "lazy": "def f():\n    from .models import SRResNet\n    return SRResNet\n"}[case]
    fake = tmp_path / "srgan_lib"
    fake.mkdir()
    (fake / "layers.py").write_text(source, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    (target, names, line, inside), = internal_imports("layers")
    assert (target, line) == ({"upward": "cli", "private": "files", "lazy": "models"}[case], 1 + (case == "lazy"))
    assert inside == (case == "lazy") and names[0].startswith("_") == (case == "private")
    assert floor_table()[target] > floor_table()["layers"] or case != "upward"
