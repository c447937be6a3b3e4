"""The registry is the one list of projects: every folder, module and file it names exists, and
nothing it doesn't name hides in the project folders."""
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import benchmarks
from twins.registry import PROJECTS, ROOT

SHARED_FILES = {"__init__.py"}  # identical on both sides


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_every_registered_part_exists(name):
    project = PROJECTS[name]
    for scratch, reference in project.twin_paths():
        assert scratch.is_file() and reference.is_file(), (scratch, reference)
    assert project.tests.is_dir() and any(project.tests.glob("test_*.py"))
    demo = importlib.import_module(project.demo)
    assert {"out_dir", "dataset_names", "num_epochs", "quick", "progress"} <= set(inspect.signature(demo.run).parameters)
    assert callable(demo.summary)
    assert (ROOT / "benchmarks" / f"bench_{name}.py").is_file()


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_the_reference_package_holds_the_twinned_files_only(name):
    """diff -r of the two packages shows the twins, plus one 'Only in scratch' line per shared file."""
    project = PROJECTS[name]
    reference_files = {p.name for p in project.reference_dir.glob("*.py")}
    assert reference_files == set(project.twinned) | SHARED_FILES
    for shared in SHARED_FILES:
        assert (project.scratch_dir / shared).read_text() == (project.reference_dir / shared).read_text()


def test_the_project_folders_and_benchmarks_are_all_registered():
    for side in ("scratch", "reference"):
        found = {p.name for p in (ROOT / side / "projects").iterdir() if p.is_dir() and not p.name.startswith("__")}
        assert found == set(PROJECTS), side
    bench = {m.name.removeprefix("bench_") for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")}
    assert bench == set(PROJECTS)
    assert {p.name for p in (ROOT / "parity_tests" / "projects").iterdir() if p.is_dir() and not p.name.startswith("__")} == set(PROJECTS)


def imported_packages(folder):
    """(file, top-level package) for every import statement under ``folder``."""
    for path in (ROOT / folder).rglob("*.py"):
        for match in re.finditer(r"^\s*(?:from|import) (\w+)", path.read_text(), re.MULTILINE):
            yield path.relative_to(ROOT), match.group(1)


@pytest.mark.parametrize("folder, forbidden", [("scratch", {"torch", "reference", "benchmarks", "twins"}),
                                               ("reference", {"benchmarks", "twins"}), ("benchmarks", {"twins"})])
def test_imports_run_one_way(folder, forbidden):
    """scratch <- reference <- benchmarks <- twins: nothing imports a layer above it."""
    wrong = [(str(path), package) for path, package in imported_packages(folder) if package in forbidden]
    assert not wrong, f"{folder} imports {wrong}"


def test_our_packages_import_from_the_repository_anywhere(tmp_path):
    """Outside the repository root the installed project must still be the one imported: a package another
    distribution installs under one of our names (opacus ships a top-level ``benchmarks``) shadows ours.
    ``python3 scripts/drop_shadowing_packages.py`` after ``pip install`` removes such folders."""
    code = "import benchmarks, reference, scratch, twins; print(*(m.__file__ for m in (benchmarks, reference, scratch, twins)))"
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"importing the project from {tmp_path} failed: {result.stderr[-400:]}"
    roots = {name: Path(file).resolve().parent.parent for name, file in zip(("benchmarks", "reference", "scratch", "twins"), result.stdout.split())}
    # one project root for all four (this checkout, or the one pip installed): never a package from site-packages
    assert len(set(roots.values())) == 1 and (roots["twins"] / "twins" / "registry.py").is_file(), \
        f"expected the four packages from one project root, got {roots}"
