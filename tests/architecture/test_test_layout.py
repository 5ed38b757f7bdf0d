"""Every public module has a test file found by its name.

``core/compiler/routing.py`` is tested in ``tests/core/compiler/test_routing.py``; a package's
own module (``cli/__init__.py``) in ``tests/cli/test_cli.py``. Modules whose name starts with
an underscore are private and tested through the public ones; cross-cutting suites
(``tests/reliability``, ``security``, ``docs``, ``examples``, ``architecture``, ``compat``)
stand apart.
"""

from __future__ import annotations

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDERS = ("core", "cli", "visualization", "emulator")


def _public_modules() -> list[pathlib.Path]:
    found = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if any(part.startswith("_") and part != "__init__.py" for part in rel.parts):
                continue
            if path.name == "__init__.py" and rel.parent.as_posix() != folder:
                continue  # a subpackage's facade is tested through its modules
            if path.name == "__init__.py" and folder in ("core", "emulator"):
                continue  # the facades are checked by tests/architecture/test_layout.py
            found.append(rel)
    return found


def _test_file(module: pathlib.Path) -> pathlib.Path:
    name = module.parent.name if module.name == "__init__.py" else module.stem
    folder = module.parent if module.name != "__init__.py" else module.parent
    return ROOT / "tests" / folder / f"test_{name}.py"


@pytest.mark.parametrize("module", _public_modules(), ids=str)
def test_public_module_has_a_test_file(module: pathlib.Path) -> None:
    expected = _test_file(module)
    assert expected.is_file(), f"{module} has no {expected.relative_to(ROOT)}"
