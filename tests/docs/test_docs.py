"""The documentation is tested: every Python block runs, the site builds, the API is published.

Each page's runnable blocks run in order, in one fresh interpreter per page, against the
embedded emulator with its default noise, as a user who pastes them gets.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _process import emulator_process_env  # noqa: E402
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from _snippets import DOCS, pages, runnable, script, snippets  # noqa: E402

ROOT = DOCS.parent
PAGE_TIMEOUT = 300
RUNNABLE_PAGES = [p for p in pages() if runnable(p)]


def _clean_env(tmp_path: Path) -> dict[str, str]:
    return emulator_process_env(tmp_path)


def test_the_pages_have_runnable_blocks() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in RUNNABLE_PAGES}
    for page in (
        "index.md",
        "quickstart/qiskit.md",
        "quickstart/cirq.md",
        "quickstart/pennylane.md",
        "jobs.md",
        "emulator.md",
        "plotting.md",
    ):
        assert page in names


def test_blocks_for_a_real_server_are_skipped() -> None:
    blocks = [s for s in snippets(DOCS / "servers.md") if s.language == "python"]
    needing_credentials = [s for s in blocks if "resonance" in s.code]
    assert needing_credentials, "servers.md shows how to reach a real server"
    assert all(s.skipped for s in needing_credentials)
    assert any(not s.skipped for s in blocks), "servers.md also runs a local-server block"


def test_the_parser_finds_skip_marks_and_languages(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "# t\n\n```python\nx = 1\n```\n\n<!-- skip -->\n\n```python\nboom()\n```\n"
        "\n```bash\nls\n```\n\n!!! note\n    ```python\n    y = x + 1\n    ```\n",
        encoding="utf-8",
    )
    found = snippets(page)
    assert [(s.language, s.skipped, s.line) for s in found] == [
        ("python", False, 4),
        ("python", True, 10),
        ("bash", False, 14),
        ("python", False, 19),
    ]
    assert found[3].code == "y = x + 1"
    assert [s.code for s in runnable(page)] == ["x = 1", "y = x + 1"]


def _run_page(page: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run a Markdown page's runnable blocks in one fresh interpreter on the emulator."""
    program = tmp_path / "page.py"
    program.write_text(script(page), encoding="utf-8")
    try:
        return subprocess.run(
            [sys.executable, str(program)],
            cwd=tmp_path,
            env=_clean_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=PAGE_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{page.name}: the code blocks did not finish in {PAGE_TIMEOUT} s\n{exc}")


@pytest.mark.slow
@pytest.mark.parametrize(
    "page", RUNNABLE_PAGES, ids=[p.relative_to(DOCS).as_posix() for p in RUNNABLE_PAGES]
)
def test_page_code_runs(page: Path, tmp_path: Path) -> None:
    proc = _run_page(page, tmp_path)
    assert proc.returncode == 0, (
        f"a code block of {page} failed\n--- stdout\n{proc.stdout[-4000:]}\n"
        f"--- stderr\n{proc.stderr[-6000:]}"
    )
    ran = proc.stdout.count("--- block at ")
    assert ran == len(runnable(page))


def _command_paths() -> list[list[str]]:
    """``iqm-bridge ...`` command lines shown in the docs' console and bash blocks."""
    paths = []
    for page in pages():
        for s in snippets(page):
            if s.language not in {"console", "bash", "shell", "sh"}:
                continue
            for line in s.code.splitlines():
                line = line.removeprefix("$ ").strip()
                if line.startswith("iqm-bridge "):
                    words = line.split("#")[0].split()[1:]
                    paths.append([w for w in words if not w.startswith("-")][:2])
    return paths


def test_documented_commands_exist() -> None:
    from iqm_bridge.cli import main

    paths = _command_paths()
    assert len(paths) >= 8
    runner = CliRunner()
    for words in paths:
        # an argument (a machine, a file, a job id) is not a command: keep only command names
        result = runner.invoke(main, [*words[:1], "--help"])
        assert result.exit_code == 0, (words, result.output)
        if len(words) > 1 and words[0] in {"jobs", "machines", "emulator"}:
            sub = runner.invoke(main, [*words, "--help"])
            is_command = words[1] in {"list", "show", "result", "cancel", "serve"}
            assert (sub.exit_code == 0) == is_command, (words, sub.output)


def _public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    return list(getattr(module, "__all__", []))


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed")
def test_site_builds_strict_and_publishes_the_api(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**_clean_env(tmp_path), "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    for picture in ("garnet.png", "deneb.png"):
        data = (site / "assets" / "machines" / picture).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    assert (site / "assets" / "ghz-histogram.png").read_bytes().startswith(b"\x89PNG")

    html = "\n".join(p.read_text(encoding="utf-8") for p in (site / "reference").rglob("*.html"))
    anchors = set(re.findall(r'id="(iqm_bridge\.[\w.]+)"', html))
    missing = []
    for package in (
        "iqm_bridge.adapters.qiskit",
        "iqm_bridge.adapters.cirq",
        "iqm_bridge.adapters.pennylane",
        "iqm_bridge.emulator",
    ):
        missing += [
            f"{package}.{n}" for n in _public_names(package) if f"{package}.{n}" not in anchors
        ]
    # the core's reference is organised by module: each exported name must appear in one
    for name in _public_names("iqm_bridge.core"):
        if not any(a.startswith("iqm_bridge.core.") and a.endswith(f".{name}") for a in anchors):
            missing.append(f"iqm_bridge.core.{name}")
    assert not missing, f"public names without a reference entry: {missing}"


@pytest.mark.slow
def test_readme_code_runs(tmp_path: Path) -> None:
    """The README's Python examples (all but the real-server one) run on the emulator."""
    readme = ROOT / "README.md"
    assert any(s.skipped for s in snippets(readme) if s.language == "python")
    proc = _run_page(readme, tmp_path)
    assert proc.returncode == 0, proc.stderr[-6000:]
    assert proc.stdout.count("--- block at ") == len(runnable(readme)) == 3
    assert "'00'" in proc.stdout and "'11'" in proc.stdout  # the qiskit Bell counts
