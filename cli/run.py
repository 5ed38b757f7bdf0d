"""``iqm-bridge run FILE.qasm``: run an OpenQASM file through the Qiskit adapter."""

from __future__ import annotations

import os
import time
from typing import Any

import click

from iqm_bridge.cli._common import (
    Credentials,
    clean_errors,
    counts_table,
    credential_options,
    echo_json,
    json_option,
)
from iqm_bridge.cli.machines import catalogue_names
from iqm_bridge.core import ConfigurationError, MissingDependencyError

__all__ = ["run"]


def _load_qasm(path: str) -> Any:
    """Parse an OpenQASM 2 or 3 file with qiskit."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None
    header = " ".join(
        line.split("//")[0] for line in text.splitlines()[:20] if line.strip()
    ).replace(" ", "")
    if "OPENQASM3" in header:
        from qiskit import qasm3

        try:
            return qasm3.loads(text)
        except ImportError as exc:
            raise MissingDependencyError(
                f"OpenQASM 3 needs qiskit's importer ({exc}): pip install qiskit-qasm3-import"
            ) from None
        except Exception as exc:
            raise click.ClickException(f"{path} is not valid OpenQASM 3: {exc}") from None
    from qiskit import qasm2

    try:
        return qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    except Exception as exc:
        message = " ".join(str(exc).split())
        raise click.ClickException(f"{path} is not valid OpenQASM 2: {message}") from None


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--shots", type=click.IntRange(min=1), default=1000, show_default=True, help="Shots.")
@click.option(
    "--machine",
    default=None,
    help="Quantum computer alias (on the emulator: garnet, emerald, deneb, adonis).",
)
@click.option(
    "--url",
    envvar="IQM_SERVER_URL",
    default=None,
    help="IQM server root URL (default: IQM_SERVER_URL, else the embedded emulator).",
)
@credential_options
@click.option("--timeout", type=float, default=None, help="Seconds to wait for the result.")
@json_option
@clean_errors
def run(
    file: str,
    shots: int,
    machine: str | None,
    url: str | None,
    credentials: Credentials,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Run an OpenQASM 2 or 3 FILE and print its counts.

    Without --url (and IQM_SERVER_URL) it runs on the embedded emulator, on --machine
    (default garnet). Counts are qiskit-style bitstrings: classical bit 0 on the right.
    """
    credentials.check(url)
    try:
        from iqm_bridge.adapters.qiskit import IQMProvider
    except ImportError as exc:
        raise MissingDependencyError(f"'iqm-bridge run' needs qiskit ({exc})") from None
    circuit = _load_qasm(file)
    if url is None and machine is not None:
        names = catalogue_names()
        if machine not in names:
            raise ConfigurationError(
                f"unknown machine {machine!r}; the emulator has {', '.join(names)}"
            )
        # the embedded emulator reads its machine when it first starts (in this process)
        os.environ["IQM_BRIDGE_EMULATOR_MACHINE"] = machine
    provider = IQMProvider(url, quantum_computer=machine, **credentials.kwargs())
    backend = provider.get_backend()
    started = time.monotonic()
    job = backend.run(circuit, shots=shots)
    result = job.result(timeout=timeout) if timeout is not None else job.result()
    counts = dict(result.get_counts())
    elapsed = time.monotonic() - started
    job_id = str(job.job_id())
    if as_json:
        echo_json(
            {
                "job_id": job_id,
                "machine": backend.name,
                "shots": shots,
                "counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            }
        )
        return
    click.echo(f"job {job_id} on {backend.name}: {shots} shots in {elapsed:.1f} s")
    click.echo(counts_table(counts))
