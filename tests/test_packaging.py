"""Packaging facts that must not drift: the repository URL, environment.yml, the notebooks' skeleton.

The public repository URL lives only in pyproject.toml's [project.urls] Repository. Every Colab badge in
README.md and every notebook's Colab install line is checked against it, so publishing under a real name
is a one-line change. environment.yml must name exactly pyproject's dependencies (core + dev).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

import srgan_lib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BRANCH = "main"  # what the Colab badges open; the notebooks then install the release they name (RELEASE)
RELEASE = f"v{srgan_lib.__version__}"  # the git tag a notebook installs (scripts/colab_cell.py writes cell 1)


def _colab_cell_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("colab_cell", ROOT / "scripts" / "colab_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

BADGE = re.compile(
    r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]\((?P<url>[^)\s]+)\)"
)
INSTALL = re.compile(r'%pip install -q "srgan-tutorial @ git\+(?P<repo>https://[^@"\s]+)@(?P<branch>[^"\s]+)"')


@pytest.fixture(scope="module")
def pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def repo_url(pyproject) -> str:
    url = pyproject["project"]["urls"]["Repository"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), f"pyproject Repository URL: {url!r}"
    return url


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_name.ipynb found"


def test_readme_colab_badges_point_to_the_repository(repo_url):
    owner_repo = repo_url.removeprefix("https://github.com/")
    badges = [m["url"] for m in BADGE.finditer(_readme())]
    assert badges, "README.md has no Open-in-Colab badge"
    prefix = f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/notebooks/"
    for url in badges:
        assert url.startswith(prefix), f"README badge {url} does not start with {prefix}"
        assert re.fullmatch(r"\d\d_\w+\.ipynb", url.removeprefix(prefix)), f"README badge {url}: not NN_name.ipynb"
    linked = {url.removeprefix(prefix) for url in badges}
    assert len(linked) == len(badges), "a notebook has two badges"
    missing = [nb.name for nb in NOTEBOOKS if nb.name not in linked]
    assert not missing, f"README.md has no Colab badge for {missing}"


def test_readme_quick_start_commands_are_marked_for_ci():
    text = _readme()
    for tag in ("ci:install", "ci:test", "ci:kernels"):
        assert text.count(f"<!-- {tag} -->") == 1, f"README.md needs exactly one <!-- {tag} --> marker"
    assert "pip install -e \".[dev]\"" in text and "--nbval-lax" in text


def test_ci_kernels_command_forces_other_cpu_kernels_on_every_notebook():
    # The third CI command (issue 26): the notebooks, strict, with ATen's, oneDNN's and MKL's vector paths capped,
    # so a compared output that depends on the CPU's float32 kernels fails in CI. Parsed as .ci/run parses it.
    text = _readme()
    block = text.split("<!-- ci:kernels -->", 1)[1].split("```bash\n", 1)[1].split("\n", 1)[0]
    env = dict(word.split("=", 1) for word in block.split() if re.fullmatch(r"[A-Z_]+=\S+", word))
    assert env == {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}
    args = block.split()
    assert "--nbval" in args and "--nbval-lax" not in args and args[-1] == "notebooks", block
    assert "readme_command kernels" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_pyproject_declares_the_console_script(pyproject):
    assert pyproject["project"]["scripts"]["srgan"] == "srgan_lib.plumbing.cli:main"
    assert pyproject["project"]["version"] == srgan_lib.__version__


def test_srgan_version_works():
    script = Path(sys.executable).with_name("srgan")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "srgan_lib"]
    result = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"srgan {srgan_lib.__version__}"


def _requirements(lines: list[str]) -> dict[str, str]:
    reqs = {}
    for line in lines:
        req = Requirement(line)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name not in reqs, f"{name} listed twice"
        reqs[name] = str(req.specifier)
    return reqs


def test_environment_yml_names_the_same_dependencies_as_pyproject(pyproject):
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip_lists = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml needs one pip: section"
    assert any(re.fullmatch(r"python\s*=\s*3\.\d+", d) for d in conda), "environment.yml pins no python"
    assert "pip" in conda
    pip = pip_lists[0]
    assert "-e ." in pip, "environment.yml must install the package itself (-e .)"
    declared = pyproject["project"]["dependencies"] + pyproject["project"]["optional-dependencies"]["dev"]
    assert _requirements([p for p in pip if p != "-e ."]) == _requirements(declared)


def test_torch_is_never_pinned_exactly(pyproject):
    """Colab keeps its own CUDA build of torch: only lower bounds."""
    for line in pyproject["project"]["dependencies"]:
        req = Requirement(line)
        if req.name in {"torch", "torchvision"}:
            assert all(s.operator == ">=" for s in req.specifier), line


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_skeleton(path, repo_url):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3", f"{path.name}: kernel {nb.metadata.kernelspec.name}"
    assert nb.metadata.language_info.name == "python"
    cells = nb.cells
    # Cell 0: the title, so that a reader meets the lesson before any code (GitHub shows the cells in order).
    assert cells[0].cell_type == "markdown", f"{path.name}: cell 0 must be the title"
    assert re.match(rf"# {path.name[:2]} · \S", _source(cells[0])), f"{path.name}: cell 0 must open '# NN · title'"
    assert cells[1].cell_type == "code" and cells[2].cell_type == "code", f"{path.name}: cells 1 and 2 are code"

    # Cell 1: the Colab cell, which installs this repository's package and prints nothing locally.
    colab = _source(cells[1])
    assert '"google.colab" in sys.modules' in colab, f"{path.name}: cell 1 is not the Colab cell"
    installs = list(INSTALL.finditer(colab))
    assert len(installs) == 1, f"{path.name}: cell 1 needs one %pip install of srgan-tutorial from git"
    assert installs[0]["repo"] == repo_url, f"{path.name}: installs from {installs[0]['repo']}, not {repo_url}"
    assert installs[0]["branch"] == RELEASE, f"{path.name}: installs @{installs[0]['branch']}, not the release {RELEASE}"
    assert colab == _colab_cell_module().colab_cell(), f"{path.name}: cell 1 differs; run python scripts/colab_cell.py"
    assert "nvidia-smi" in colab or "cuda" in colab, f"{path.name}: cell 1 does not report the GPU"
    assert cells[1].outputs == [], f"{path.name}: cell 1 must print nothing locally"

    # Cell 2, and only cell 2, is tagged `parameters`: the quick switch and the device.
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert tagged == [2], f"{path.name}: cells tagged 'parameters': {tagged} (want exactly [2])"
    params = _source(cells[2])
    assert "QUICK = quick_mode()" in params and "DEVICE = pick_device(" in params


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_executed_in_order(path):
    """Committed with the outputs of one top-to-bottom run (nbval skips cells never executed)."""
    nb = nbformat.read(path, as_version=4)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts {counts}"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"{path.name} cell {i}: committed with an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_cells_avoid_nbval_traps(path):
    """A trailing ';' does not suppress a value under nbval. nbval's choices are cell tags, invisible on GitHub,
    not comment lines a learner would read as part of the lesson; only the tags nbval knows are used."""
    nb = nbformat.read(path, as_version=4)
    known = {"nbval-check-output", "nbval-ignore-output", "parameters"}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        lines = [ln for ln in _source(cell).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        assert not (lines and lines[-1].rstrip().endswith(";")), f"{path.name} cell {i}: trailing ';'"
        assert "NBVAL_" not in _source(cell), f"{path.name} cell {i}: an NBVAL_ comment; use a cell tag"
        tags = set(cell.get("metadata", {}).get("tags", []))
        assert tags <= known, f"{path.name} cell {i}: unknown tags {sorted(tags - known)}"
        assert not {"nbval-check-output", "nbval-ignore-output"} <= tags, f"{path.name} cell {i}: both nbval tags"


def test_one_install_source_shared_by_script_badges_and_pyproject(repo_url, pyproject):
    """Issue 25: the repository and the release come from pyproject.toml alone (the badge test reads the same URL)."""
    repo, ref = _colab_cell_module().install_source()
    assert repo == repo_url and ref == f"v{pyproject['project']['version']}" == RELEASE
    assert _colab_cell_module().main(["--check"]) == 0


@pytest.mark.parametrize("installed", [True, False])
def test_colab_cell_stops_with_a_clear_message_when_the_install_fails(monkeypatch, installed):
    """The issue: a failed install surfaced one cell later as ModuleNotFoundError. Cell 1 runs here as IPython would
    run it on Colab (its magics turned into calls), with pip replaced by a recorder."""
    import importlib.util
    import types

    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(_colab_cell_module().colab_cell())
    calls = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: calls.append((name, line)),
                                  system=lambda cmd: calls.append(("system", cmd)))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real_find_spec(name, *a) if installed else None) if name == "srgan_lib"
                        else real_find_spec(name, *a))
    namespace = {"get_ipython": lambda: shell}
    if installed:
        exec(compile(code, "cell0", "exec"), namespace)
        assert calls[-1][0] == "system" and "nvidia-smi" in calls[-1][1]
    else:
        with pytest.raises(SystemExit, match=rf"Installing srgan-tutorial from git\+https://github.com/.*@{RELEASE} "
                                             r"failed .*run this cell again"):
            exec(compile(code, "cell0", "exec"), namespace)
    assert calls[0][0] == "pip" and f"@{RELEASE}" in calls[0][1]
