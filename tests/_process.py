"""Environment for child processes that run scripts on a fresh embedded emulator."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def emulator_process_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process that runs as a new user's would: on a fresh embedded
    emulator with its default noise (on), no server settings or tokens inherited, a private
    journal and job file, no GUI for matplotlib."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IQM_SERVER", "IQM_TOKEN", "IQM_QUANTUM", "IQM_BRIDGE_"))
    }
    env.update(
        IQM_BRIDGE_JOURNAL=str(tmp_path / "journal.sqlite3"),
        IQM_BRIDGE_EMULATOR_DB=str(tmp_path / "emulator.sqlite3"),
        MPLBACKEND="Agg",
        PYTHONWARNINGS="ignore::DeprecationWarning",
    )
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen[str], timeout: float = 15) -> None:
    """Ask ``proc`` to stop (SIGTERM); kill it if it has not within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
