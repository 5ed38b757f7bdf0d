"""Helpers shared by the command-line tests (tests/cli)."""

from __future__ import annotations

import importlib
import math
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from iqm_bridge.cli import main
from iqm_bridge.core.ir import Circuit, Gate, Measure
from iqm_bridge.core.keys import KeyMap, Register

catalogue = importlib.import_module("iqm_bridge.emulator._machines")
GHZ_QASM2 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
h q[0];
cx q[0], q[1];
cx q[1], q[2];
measure q -> c;
"""

BELL_QASM3 = """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;
"""


def invoke(*args: str) -> Result:
    """Run the CLI in this process; errors are reported, never raised."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_clean_error(result: Result, *fragments: str) -> None:
    """Exit code 1, one ``Error:`` line naming every fragment, and no traceback."""
    assert result.exit_code == 1, result.output
    text = result.output
    assert "Traceback" not in text
    error_lines = [line for line in text.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 1, text
    for fragment in fragments:
        assert fragment in error_lines[0], (fragment, error_lines[0])


def ghz_ir(n: int, name: str = "ghz") -> Circuit:
    qubits = tuple(f"q{i}" for i in range(n))
    ops: list[Any] = [Gate("h", (qubits[0],))]
    ops += [Gate("cx", (a, b)) for a, b in zip(qubits, qubits[1:], strict=False)]
    ops.append(Measure(qubits, KeyMap.encode(Register("c", n), 0, 0)))
    return Circuit(qubits=qubits, operations=tuple(ops), name=name)


def assert_fair_ghz(counts: dict[str, int], n: int, shots: int) -> None:
    """Only all-zeros and all-ones, each near half the shots (4 sigma)."""
    assert set(counts) <= {"0" * n, "1" * n}, counts
    assert sum(counts.values()) == shots
    sigma = math.sqrt(shots * 0.25)
    assert abs(counts.get("0" * n, 0) - shots / 2) <= 4 * sigma, counts


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_command() -> list[str]:
    """The installed ``iqm-bridge`` console script (or ``python -m iqm_bridge.cli``)."""
    script = Path(sys.executable).with_name("iqm-bridge")
    if script.exists():
        return [str(script)]
    found = shutil.which("iqm-bridge")
    return [found] if found else [sys.executable, "-m", "iqm_bridge.cli"]
