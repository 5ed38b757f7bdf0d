"""``iqm-bridge jobs``: the local job journal, and the jobs in it on their servers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from iqm_bridge.cli._common import (
    Credentials,
    clean_errors,
    counts_table,
    credential_options,
    echo_json,
    json_option,
    table,
)
from iqm_bridge.core import (
    ConfigurationError,
    Connection,
    IQMBridgeError,
    RetryPolicy,
    ServerError,
    counts_from_bits,
)
from iqm_bridge.core.submit.journal import EMBEDDED_URL_PREFIX, default_journal

__all__ = ["jobs"]

F = TypeVar("F", bound=Callable[..., Any])


def _journal() -> Any:
    journal = default_journal()
    if journal is None:
        raise ConfigurationError(
            "the job journal is switched off (IQM_BRIDGE_JOURNAL=off); unset it to keep one"
        )
    return journal


def _entry_json(entry: Any) -> dict[str, Any]:
    return {
        "job_id": entry.job_id,
        "url": entry.url,
        "quantum_computer": entry.quantum_computer,
        "submitted_at": _iso(entry.submitted_at),
        "num_circuits": entry.num_circuits,
        "shots": entry.shots,
        "status": entry.status,
        "label": entry.label,
    }


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(timestamp))


def _find_entry(journal: Any, job_id: str) -> Any:
    """The journal entry of ``job_id`` or of the one job whose id starts with it."""
    entry = journal.get(job_id)
    if entry is not None:
        return entry
    matches = [e for e in journal.entries() if e.job_id.startswith(job_id)]
    if len(matches) == 1:
        return matches[0]
    # a server job and the split submission it belongs to share a prefix: take the server job
    shortest = min(matches, key=lambda e: len(e.job_id), default=None)
    if shortest is not None and all(e.job_id.startswith(shortest.job_id) for e in matches):
        return shortest
    if len(matches) > 1:
        raise ConfigurationError(
            f"job id prefix {job_id!r} matches {len(matches)} jobs in the journal; "
            "give more characters"
        )
    return None


def _job_target(
    job_id: str, url: str | None, quantum_computer: str | None
) -> tuple[str, str, str | None, Any]:
    """Resolve ``job_id`` (or a prefix) to (full id, server URL, quantum computer, entry)."""
    journal = _journal()
    entry = _find_entry(journal, job_id)
    if entry is None:
        if url is None:
            raise ConfigurationError(
                f"job {job_id} is not in the journal {journal.path}; "
                "pass --url (and --machine) to ask a server directly"
            )
        return job_id, url, quantum_computer, None
    return (
        entry.job_id,
        url or entry.url,
        quantum_computer or entry.quantum_computer,
        entry,
    )


def _retrieve(
    job_id: str,
    url: str,
    quantum_computer: str | None,
    credentials: Credentials,
    retry: RetryPolicy | None = None,
) -> Any:
    """The job, from its server; a job of the embedded emulator from the emulator started
    again on its per-user job file."""
    credentials.check(url)
    server: str | None = url
    if url.startswith(EMBEDDED_URL_PREFIX):
        server, quantum_computer = None, None
    conn = Connection(
        server, quantum_computer, journal=default_journal(), retry=retry, **credentials.kwargs()
    )
    return conn.retrieve(job_id)


def _record_status(job_id: str, status: str) -> None:
    try:
        _journal().set_status(job_id, status)
    except Exception as exc:  # the journal is a convenience; never fail a command over it
        logging.getLogger(__name__).warning("could not update the journal: %s", exc)


@click.group(short_help="Follow the jobs in the local journal.")
def jobs() -> None:
    """Jobs submitted from this machine (the local journal, IQM_BRIDGE_JOURNAL)."""


@jobs.command("list")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Newest N jobs only.",
)
@click.option("--all", "show_all", is_flag=True, help="Every job in the journal.")
@json_option
@clean_errors
def jobs_list(limit: int, show_all: bool, as_json: bool) -> None:
    """List journaled jobs, newest first (status as last seen)."""
    journal = _journal()
    entries = journal.entries()
    shown = entries if show_all else entries[:limit]
    if as_json:
        echo_json([_entry_json(e) for e in shown])
        return
    if not entries:
        click.echo(f"no jobs in the journal {journal.path}")
        return
    rows = [
        (
            e.job_id,
            time.strftime("%Y-%m-%d %H:%M", time.localtime(e.submitted_at)),
            e.quantum_computer,
            e.num_circuits,
            e.shots,
            e.status,
            e.url,
        )
        for e in shown
    ]
    headers = ("JOB ID", "SUBMITTED", "MACHINE", "CIRCUITS", "SHOTS", "STATUS", "URL")
    click.echo(table(headers, rows, right=(3, 4)))
    if len(shown) < len(entries):
        click.echo(f"(the newest {len(shown)} of {len(entries)} jobs; --all shows every one)")


job_server_options: list[Callable[[F], F]] = [
    click.option("--url", default=None, help="Server URL (default: the one in the journal)."),
    click.option("--machine", default=None, help="Quantum computer alias on that server."),
    credential_options,
]


def _with_server_options(fn: F) -> F:
    for option in reversed(job_server_options):
        fn = option(fn)
    return fn


@jobs.command("show", short_help="Show a job's journal entry and status.")
@click.argument("job_id")
@_with_server_options
@json_option
@clean_errors
def jobs_show(
    job_id: str,
    url: str | None,
    machine: str | None,
    credentials: Credentials,
    as_json: bool,
) -> None:
    """Show a job: what the journal recorded and its status on the server now.

    When the server cannot be reached, the journal entry is shown with the reason.
    """
    full_id, server, qc, entry = _job_target(job_id, url, machine)
    credentials.check(server)
    info: dict[str, Any] = (
        _entry_json(entry) if entry is not None else {"job_id": full_id, "url": server}
    )
    unreachable: IQMBridgeError | None = None
    try:
        job = _retrieve(full_id, server, qc, credentials, RetryPolicy(attempts=3))
        status = job.status()
    except (ServerError, ConfigurationError) as exc:
        if entry is None:
            raise
        unreachable = exc
        info["server"] = f"unreachable: {' '.join(str(exc).split())}"
    else:
        _record_status(full_id, str(status))
        info.update(
            status=str(status),
            queue_position=None if status.is_terminal else job.queue_position(),
            num_circuits=job.num_circuits,
            shots=job.shots,
            error=job.error_message() if status in ("failed", "cancelled") else None,
        )
    if as_json:
        echo_json(info)
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            if value is not None and key != "server":
                click.echo(f"{key.replace('_', ' ').ljust(width)}  {value}")
    if unreachable is not None:  # the entry is shown; the command still failed
        raise unreachable


@jobs.command("cancel")
@click.argument("job_id")
@_with_server_options
@json_option
@clean_errors
def jobs_cancel(
    job_id: str,
    url: str | None,
    machine: str | None,
    credentials: Credentials,
    as_json: bool,
) -> None:
    """Ask the server to cancel a job that has not finished."""
    full_id, server, qc, _ = _job_target(job_id, url, machine)
    job = _retrieve(full_id, server, qc, credentials)
    before = job.status()
    if before.is_terminal:
        cancelled = False
        status = before
    else:
        cancelled = job.cancel()
        status = job.status()
    _record_status(full_id, str(status))
    if as_json:
        echo_json({"job_id": full_id, "cancelled": cancelled, "status": str(status)})
    elif before.is_terminal:
        click.echo(f"job {full_id} had already finished ({status}); nothing to cancel")
    else:
        click.echo(f"job {full_id}: {status}")
    if not before.is_terminal and not cancelled:
        raise click.ClickException(f"the server did not cancel job {full_id} (status {status})")


@jobs.command("result")
@click.argument("job_id")
@_with_server_options
@click.option("--timeout", type=float, default=None, help="Seconds to wait for the result.")
@json_option
@clean_errors
def jobs_result(
    job_id: str,
    url: str | None,
    machine: str | None,
    credentials: Credentials,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Wait for a job and print each circuit's counts.

    Bitstrings are qiskit-style: registers in order from right to left, bit 0 of each on the
    right, registers separated by spaces.
    """
    full_id, server, qc, _ = _job_target(job_id, url, machine)
    job = _retrieve(full_id, server, qc, credentials)
    results = job.result(timeout=timeout)
    _record_status(full_id, "completed")
    out = []
    for res in results:
        groups = [reg.size for reg in res.bits.registers]
        counts = counts_from_bits(res.bits.memory(), groups) if groups else {}
        out.append(
            {
                "name": res.name,
                "job_id": res.job_id,
                "shots": res.shots,
                "calibration_set_id": res.calibration_set_id,
                "registers": [[reg.name, reg.size] for reg in res.bits.registers],
                "counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            }
        )
    if as_json:
        echo_json(out)
        return
    for i, item in enumerate(out):
        if i:
            click.echo("")
        regs = " ".join(f"{n}[{s}]" for n, s in reversed(item["registers"])) or "none"
        click.echo(f"circuit {i} {item['name']!r}: {item['shots']} shots, registers {regs}")
        click.echo(counts_table(item["counts"]))
