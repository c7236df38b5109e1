"""``pip install .`` gives a working hub: the wheel carries the contracts, code lists and
migrations, and ``hub demo --persons 1000`` runs from it, away from the source tree.

The wheel is built as pip builds it (an isolated build of a clean copy of the sources) and
installed with pip into a fresh venv. Its dependencies are not downloaded again: the venv
sees, through a ``.pth`` file, exactly the distributions the wheel's ``Requires-Dist``
names and what they require in turn, taken from this test's own environment (so an
undeclared dependency fails here as it would after ``pip install .``). ``make wheel-check``
does the same with a full ``pip install`` from the index.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "hub", "mocks", "fixtures", "contracts")
NEEDED_DATA = (
    "contracts/hub-openapi.yaml",
    "contracts/emis/emis-v1.wsdl",
    "contracts/emis/emis-types-v1.xsd",
    "contracts/sas/sas-v1.wsdl",
    "contracts/sas/sas-types-v1.xsd",
    "contracts/tak/tak-openapi-v1.yaml",
    "contracts/cra/cra-openapi-v1.yaml",
    "contracts/cms/cms-openapi-v1.yaml",
    "hub/mappings/codelists/municipalities.yaml",
    "hub/mappings/cra.yaml",
    "hub/policy/profiles/xk.yaml",
    "hub/store/migrations/script.py.mako",
    "hub/store/migrations/env.py",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hub's wheel, built from a copy of the sources (no build/ left in the tree)."""
    work = tmp_path_factory.mktemp("build")
    source = work / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(path, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", source)
    (built,) = (work / "dist").glob("ura_hub-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed and its declared dependencies visible."""
    home = tmp_path_factory.mktemp("installed")
    venv = home / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel)
    site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    deps = home / "deps"
    deps.mkdir()
    for dist in _closure(_requires(wheel)):
        _expose(dist, deps)
    (site / "ura-hub-dependencies.pth").write_text(f"{deps}\n")
    return venv


def test_the_wheel_carries_contracts_code_lists_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [name for name in NEEDED_DATA if name not in names] == []
    versions = [n for n in names if n.startswith("hub/store/migrations/versions/")]
    on_disk = list((ROOT / "hub/store/migrations/versions").glob("*.py"))
    assert len(versions) == len(on_disk)


def test_the_installed_hub_runs_the_demo(venv: Path, tmp_path: Path) -> None:
    python, hub = venv / "bin" / "python", venv / "bin" / "hub"
    env = _clean_env(tmp_path)
    where = _run(
        python,
        "-c",
        "import hub, mocks.soap.contract as c, hub.api.contract as a; "
        "print(hub.__file__); print(c.CONTRACTS_DIR); print(a.CONTRACT_FILE)",
        env=env,
        cwd=tmp_path,
    ).split()
    assert all(path.startswith(str(venv)) for path in where), where  # not the source tree
    assert Path(where[2]).is_file()
    assert _run(hub, "--version", env=env, cwd=tmp_path).startswith("hub ")

    demo = subprocess.run(
        [str(hub), "demo", "--persons", "1000", "--json", "--workdir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert '"ok":true' in demo.stdout.strip().splitlines()[-1]


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(name).decode()
    return re.findall(r"^Requires-Dist: (.+)$", text, flags=re.MULTILINE)


def _closure(requirements: list[str]) -> list[metadata.Distribution]:
    """The installed distributions ``requirements`` need, transitively (extras left out
    unless asked for, markers evaluated for this interpreter)."""
    found: dict[str, metadata.Distribution] = {}
    todo = [(Requirement(text), "") for text in requirements]
    while todo:
        requirement, extra = todo.pop()
        environment = {**default_environment(), "extra": extra}
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        key = _key(requirement.name)
        for asked in sorted(requirement.extras):
            todo.extend((Requirement(r), asked) for r in _dist(key).requires or ())
        if key in found:
            continue
        found[key] = dist = _dist(key)
        assert requirement.specifier.contains(dist.version, prereleases=True), (
            f"{dist.metadata['Name']} {dist.version} does not satisfy {requirement}"
        )
        todo.extend((Requirement(r), "") for r in dist.requires or ())
    return list(found.values())


def _dist(key: str) -> metadata.Distribution:
    try:
        return metadata.distribution(key)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{key} is declared but not installed in {sys.prefix}")


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _expose(dist: metadata.Distribution, into: Path) -> None:
    """Link the top-level modules and metadata of ``dist`` into ``into``."""
    base = Path(str(dist.locate_file("")))
    tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
    for top in tops:
        target = into / top
        if top.endswith(".pth") or target.exists() or not (base / top).exists():
            continue
        target.symlink_to(base / top)


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a newcomer: no HUB_* or PYTHON* settings of this test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "PYTHON", "VIRTUAL"))}
    return {
        **env,
        "HOME": str(home),
        "HUB_LOG_FORMAT": "json",
        "HUB_DATABASE_URL": f"sqlite:///{home / 'hub.sqlite3'}",
    }


def _run(*command: object, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
        check=False,
    )
    assert result.returncode == 0, f"{command}: {result.stderr[-3000:]}"
    return result.stdout
