"""The house rules, checked: namespace layout, public API lists, import costs, boundaries."""

from __future__ import annotations

import importlib
import inspect
import os
import pathlib
import shutil
import subprocess
import sys
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = [
    "iqm_bridge.core",
    "iqm_bridge.adapters",
    "iqm_bridge.adapters.qiskit",
    "iqm_bridge.adapters.cirq",
    "iqm_bridge.adapters.pennylane",
    "iqm_bridge.emulator",
]


def test_iqm_bridge_is_a_namespace_package() -> None:
    import iqm_bridge

    assert not (ROOT / "iqm_bridge").exists()
    assert getattr(iqm_bridge, "__file__", None) is None
    for folder in ("core", "adapters", "emulator"):
        assert (ROOT / folder / "py.typed").is_file()


def test_mapped_folders_are_the_imported_ones() -> None:
    import iqm_bridge.core

    here = pathlib.Path(iqm_bridge.core.__file__).resolve()
    assert here.name == "__init__.py"
    assert (ROOT / "core" / "__init__.py").read_text() == here.read_text()


@pytest.mark.parametrize("package", PACKAGES)
def test_all_lists_exactly_the_public_names(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__doc__ and module.__doc__.strip(), f"{package} has no docstring"
    exported = set(getattr(module, "__all__", ()))
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and name not in {"annotations", "TYPE_CHECKING"}
    }
    # lazily exported names (module __getattr__) are in __all__ but not yet in vars()
    assert public <= exported, f"{package}: public but not in __all__: {public - exported}"
    for name in exported:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__doc__, f"{package}.{name} has no docstring"


def _fresh_import(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd="/",
    )
    return out.stdout.strip()


def test_importing_the_core_imports_no_framework_and_no_iqm_client() -> None:
    loaded = _fresh_import(
        "import sys, iqm_bridge.core;"
        "print(sorted(m for m in ('qiskit', 'cirq', 'pennylane', 'iqm', 'iqm_bridge.emulator')"
        " if m in sys.modules))"
    )
    assert loaded == "[]"


def test_no_top_level_core_adapters_or_emulator_installed() -> None:
    found = _fresh_import(
        "import importlib.util;"
        "print([m for m in ('core', 'adapters', 'emulator') if importlib.util.find_spec(m)])"
    )
    assert found == "[]"


def test_import_linter_contracts_hold() -> None:
    exe = pathlib.Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(exe)], capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.mark.slow
def test_core_alone_installs_and_adapters_explain_the_missing_extra(tmp_path: pathlib.Path) -> None:
    """A plain (non-editable) install with no extras, in a fresh venv: the core imports and
    each adapter says which extra to install."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = str(env_dir / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    build = tmp_path / "src"
    shutil.copytree(
        ROOT, build, ignore=shutil.ignore_patterns(".venv", "build", ".git", "*.egg-info")
    )
    res = subprocess.run(
        [py, "-m", "pip", "install", "-q", str(build)], env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr[-3000:]
    probe = (
        "import sys, iqm_bridge.core\n"
        "from iqm_bridge.core import IQMBridgeError, MissingDependencyError\n"
        "for fw in ('qiskit', 'cirq', 'pennylane'):\n"
        "    try:\n"
        "        __import__('iqm_bridge.adapters.' + fw)\n"
        "    except MissingDependencyError as e:\n"
        "        assert isinstance(e, ImportError) and isinstance(e, IQMBridgeError)\n"
        "        print(e)\n"
    )
    out = subprocess.run(
        [py, "-c", probe], capture_output=True, text=True, cwd=str(tmp_path), env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    for fw in ("qiskit", "cirq", "pennylane"):
        # installed from a folder, the hint names that folder (pip would not find the name)
        assert f"pip install '{build}[{fw}]'" in out.stdout
    # the command line works without any extra; a command that needs one says which
    cli = str(env_dir / "bin" / "iqm-bridge")
    helped = subprocess.run([cli, "--help"], capture_output=True, text=True, env=env)
    assert helped.returncode == 0, helped.stderr[-2000:]
    assert all(c in helped.stdout for c in ("machines", "jobs", "run", "emulator"))
    served = subprocess.run([cli, "emulator", "serve"], capture_output=True, text=True, env=env)
    assert served.returncode == 1
    assert f"pip install '{build}[emulator]'" in served.stderr
    assert "Traceback" not in served.stderr


def test_ci_installs_every_dependency_at_its_floor() -> None:
    """.ci/constraints.txt pins each direct dependency at the floor pyproject.toml states, so
    the versions CI tests are the lowest the project claims to support."""
    import re
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for items in data["project"]["optional-dependencies"].values():
        reqs += [r for r in items if not r.startswith("iqm-bridge")]
    floors = {}
    for r in reqs:
        m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)", r)
        assert m, f"{r!r} states no floor"
        floors[m.group(1).lower()] = m.group(3)
    pinned = dict(
        line.split("==")
        for line in (ROOT / ".ci" / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert pinned == floors
    if os.environ.get("CI"):  # .ci/run: this environment runs exactly those versions
        from importlib.metadata import version

        assert {name: version(name) for name in floors} == floors
