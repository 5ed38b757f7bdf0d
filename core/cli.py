"""The ``iqm-bridge`` command line.

``iqm-bridge machines`` lists quantum computers (the emulator's catalogue, or a server's with
``--url``), ``iqm-bridge run`` runs an OpenQASM file, ``iqm-bridge jobs`` reads the local job
journal and follows its jobs, and ``iqm-bridge emulator serve`` starts a local IQM server.
Every listing has a ``--json`` form for scripts; errors are one line on stderr and a non-zero
exit code.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import click

from iqm_bridge.core.device import Calibration, Device
from iqm_bridge.core.errors import ConfigurationError, IQMBridgeError, MissingDependencyError

__all__ = [
    "PLUGIN_GROUP",
    "catalogue_names",
    "clean_errors",
    "counts_table",
    "echo_json",
    "json_option",
    "main",
    "token_option",
    "tokens_file_option",
]

F = TypeVar("F", bound=Callable[..., Any])

_DEBUG_ENV = "IQM_BRIDGE_DEBUG"


PLUGIN_GROUP = "iqm_bridge.cli"
"""Entry-point group through which other packages add commands (the emulator's ``emulator``
group, the qiskit adapter's ``run``), so the core never imports them."""

_PLUGIN_EXTRAS = {"emulator": "emulator", "run": "qiskit"}


def _plugins() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}


class _LazyGroup(click.Group):
    """Loads plugin commands (entry points of :data:`PLUGIN_GROUP`) only when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        ep = _plugins().get(cmd_name)
        if ep is None:
            return None
        try:
            loaded: click.Command = ep.load()
        except ImportError as exc:
            extra = _PLUGIN_EXTRAS.get(cmd_name, "all")
            raise click.ClickException(
                f"'{cmd_name}' needs an extra that is not installed ({exc}); "
                f"pip install 'iqm-bridge[{extra}]'"
            ) from None
        return loaded


def clean_errors(fn: F) -> F:
    """Turn every error into one line on stderr and exit code 1 (``IQM_BRIDGE_DEBUG=1``: raise)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # the reader went away (``| head``): stop quietly
            sys.stderr.close()
            raise click.exceptions.Exit(1) from None
        except Exception as exc:
            if os.environ.get(_DEBUG_ENV):
                raise
            if isinstance(exc, IQMBridgeError):
                message = str(exc)
            else:
                message = f"{type(exc).__name__}: {exc}"
            raise click.ClickException(" ".join(message.split())) from None

    return wrapper  # type: ignore[return-value]


@click.group(cls=_LazyGroup)
@click.version_option(package_name="iqm-bridge")
def main() -> None:
    """Run circuits on IQM quantum computers, or on the local emulator."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")


# ---------------------------------------------------------------------------------- helpers
def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Iterable[int] = ()) -> str:
    """A plain text table; the columns numbered in ``right`` are right-aligned."""
    cells = [[("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))
    right_cols = set(right)

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if i in right_cols else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(list(headers)), *(line(row) for row in cells)])


def _fmt(value: float | None, digits: int = 4) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


def _us(value: float | None) -> str | None:
    return None if value is None else f"{value * 1e6:.1f}"


# -------------------------------------------------------------------- where machines come from
def _catalogue() -> Any:
    """The emulator package, for its machine catalogue.

    The core imports the emulator in two places only, both at call time and both named in the
    import-linter contract's exceptions: the embedded default server, and this command line
    when it describes the emulator's machines (no server configured).
    """
    try:
        import iqm_bridge.emulator as emulator

        return emulator
    except ImportError as exc:
        raise MissingDependencyError(
            f"the emulator's machine catalogue cannot be loaded ({exc}); "
            "pip install 'iqm-bridge[emulator]', or pass --url to list a server's machines"
        ) from exc


def catalogue_names() -> tuple[str, ...]:
    names: tuple[str, ...] = tuple(_catalogue().MACHINE_NAMES)
    return names


def _catalogue_device(name: str) -> tuple[Device, str]:
    names = catalogue_names()
    if name not in names:
        raise ConfigurationError(
            f"unknown machine {name!r}; the emulator has {', '.join(names)} "
            "(pass --url to ask a server)"
        )
    machine = _catalogue().get_machine(name)
    device: Device = machine.device
    return device, str(machine.display_name)


def _server_quantum_computers(url: str, token: str | None, tokens_file: str | None) -> list[Any]:
    """The server's quantum computers, read through iqm-client's own response model."""
    import requests
    from iqm.iqm_server_client.models import ListQuantumComputersResponse
    from iqm.station_control.client.authentication import TokenManager

    headers = {"Accept": "application/json"}
    try:
        callback = TokenManager(token, tokens_file).get_auth_header_callback()
    except Exception as exc:
        raise ConfigurationError(f"cannot use the token settings: {exc}") from None
    if callback is not None:
        headers["Authorization"] = callback()
    root = url.rstrip("/")
    try:
        response = requests.get(f"{root}/api/v1/quantum-computers", headers=headers, timeout=30)
    except requests.RequestException as exc:
        raise ConfigurationError(
            f"cannot connect to the IQM server at {url} ({_reason(exc)}); check the URL"
        ) from None
    if response.status_code in (401, 403):
        raise ConfigurationError(
            f"the IQM server at {url} refused the request (HTTP {response.status_code}); "
            "give a valid token with --token, IQM_TOKEN or IQM_TOKENS_FILE"
        )
    if not response.ok:
        raise ConfigurationError(
            f"the IQM server at {url} answered HTTP {response.status_code} when asked for its "
            "quantum computers; check the URL (the server's root, e.g. https://host)"
        )
    try:
        model = ListQuantumComputersResponse.model_validate_json(response.text)
    except Exception:
        raise ConfigurationError(
            f"{url} did not answer like an IQM server (no quantum-computer list); check the URL"
        ) from None
    return list(model.quantum_computers)


def _reason(exc: BaseException) -> str:
    """The operating system's words for a failed connection, else the exception's name."""
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return match.group(1).strip().lower() if match else type(exc).__name__


def _connection(
    url: str | None, quantum_computer: str | None, token: str | None, tokens_file: str | None
) -> Any:
    from iqm_bridge.core.submit import Connection

    return Connection(url, quantum_computer, token, tokens_file=tokens_file, journal=None)


def _calibration_from_metrics(observations: Iterable[Any]) -> Calibration:
    """Per-qubit and per-coupler figures from a quality-metric set's observations.

    Reads the observation names IQM servers publish (``characterization.model.QB1.t1_time``,
    ``metrics.rb.prx.<impl>.QB1.fidelity``, ``metrics.irb.cz.<impl>.QB1__QB2.fidelity``,
    ``metrics.ssro.measure.<impl>.QB1.fidelity``); others are ignored.
    """
    prx: dict[str, float] = {}
    cz: dict[tuple[str, str], float] = {}
    readout: dict[str, float] = {}
    t1: dict[str, float] = {}
    t2: dict[str, float] = {}
    for obs in observations:
        name = str(getattr(obs, "dut_field", ""))
        try:
            value = float(obs.value)
        except (TypeError, ValueError):
            continue
        parts = name.split(".")
        if getattr(obs, "invalid", False) or len(parts) < 4:
            continue
        if parts[0] == "characterization" and parts[-1] in {"t1_time", "t2_time"}:
            (t1 if parts[-1] == "t1_time" else t2)[parts[-2]] = value
        elif parts[0] == "metrics" and parts[-1] == "fidelity" and len(parts) >= 6:
            kind, gate, locus = parts[1], parts[2], parts[-2].split("__")
            if kind == "rb" and gate == "prx" and len(locus) == 1:
                prx[locus[0]] = value
            elif kind == "irb" and gate == "cz" and len(locus) == 2:
                a, b = sorted(locus)
                cz[(a, b)] = value
            elif kind == "ssro" and gate == "measure" and len(locus) == 1:
                readout[locus[0]] = value
    return Calibration(prx_fidelity=prx, cz_fidelity=cz, readout_fidelity=readout, t1=t1, t2=t2)


def _server_device(
    url: str, name: str, token: str | None, tokens_file: str | None, with_calibration: bool
) -> Device:
    conn = _connection(url, name, token, tokens_file)
    device: Device = conn.device
    if not with_calibration:
        return device
    try:
        metrics = conn.client.get_quality_metric_set()
        calibration = _calibration_from_metrics(metrics.observations)
    except Exception as exc:  # servers without quality metrics still have an architecture
        logging.getLogger(__name__).warning("no calibration figures from %s: %s", url, exc)
        return device
    return Device(
        name=device.name,
        qubits=device.qubits,
        resonators=device.resonators,
        gates=device.gates,
        calibration_set_id=device.calibration_set_id,
        calibration=calibration,
    )


def _summary(device: Device, display_name: str | None) -> dict[str, Any]:
    return {
        "name": device.name,
        "display_name": display_name,
        "qubits": len(device.qubits),
        "resonators": list(device.resonators),
        "couplers": len(device.coupling_edges),
        "calibration_set_id": device.calibration_set_id,
    }


def _details(device: Device, display_name: str | None) -> dict[str, Any]:
    cal = device.calibration or Calibration()
    qubits = [
        {
            "name": q,
            "prx_fidelity": cal.prx_fidelity.get(q),
            "readout_fidelity": cal.readout_fidelity.get(q),
            "t1": cal.t1.get(q),
            "t2": cal.t2.get(q),
        }
        for q in device.qubits
    ]
    order = {name: i for i, name in enumerate((*device.qubits, *device.resonators))}

    def position(pair: tuple[str, str]) -> tuple[int, int]:
        a, b = sorted(pair, key=lambda c: order.get(c, len(order)))
        return order.get(a, len(order)), order.get(b, len(order))

    couplers = []
    for a, b in sorted(device.coupling_edges, key=position):
        gates = sorted(
            g for g in ("cz", "move") if device.supports(g, (a, b)) or device.supports(g, (b, a))
        )
        couplers.append(
            {"pair": [a, b], "gates": gates, "cz_fidelity": cal.cz_fidelity.get((a, b))}
        )
    return {
        **_summary(device, display_name),
        "gates": sorted(device.gates),
        "qubit_figures": qubits,
        "coupler_figures": couplers,
    }


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


url_option = click.option(
    "--url",
    envvar="IQM_SERVER_URL",
    default=None,
    help="IQM server root URL (default: IQM_SERVER_URL, else the emulator's catalogue).",
)
token_option = click.option(
    "--token", default=None, help="API token (default: IQM_TOKEN as iqm-client reads it)."
)
tokens_file_option = click.option(
    "--tokens-file", default=None, help="Tokens file (default: IQM_TOKENS_FILE)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


# ---------------------------------------------------------------------------------- machines
@main.group(invoke_without_command=True, short_help="List the quantum computers.")
@url_option
@token_option
@tokens_file_option
@json_option
@click.pass_context
@clean_errors
def machines(
    ctx: click.Context, url: str | None, token: str | None, tokens_file: str | None, as_json: bool
) -> None:
    """List the quantum computers: the emulator's catalogue, or a server's with --url."""
    ctx.obj = {"url": url, "token": token, "tokens_file": tokens_file, "json": as_json}
    if ctx.invoked_subcommand is not None:
        return
    summaries = []
    if url is None:
        for name in catalogue_names():
            device, display = _catalogue_device(name)
            summaries.append(_summary(device, display))
    else:
        for qc in _server_quantum_computers(url, token, tokens_file):
            device = _server_device(url, qc.alias, token, tokens_file, with_calibration=False)
            summaries.append(_summary(device, qc.display_name))
    if as_json:
        echo_json(summaries)
        return
    if url is None:
        click.echo("Emulated machines (no server configured; --url or IQM_SERVER_URL for one):")
    else:
        click.echo(f"Quantum computers at {url}:")
    rows = [
        (
            s["name"],
            s["qubits"],
            ",".join(s["resonators"]) or None,
            s["couplers"],
            s["calibration_set_id"],
            s["display_name"],
        )
        for s in summaries
    ]
    headers = ("NAME", "QUBITS", "RESONATORS", "COUPLERS", "CALIBRATION SET", "DESCRIPTION")
    click.echo(_table(headers, rows, right=(1, 3)))


@machines.command("show", short_help="Show a machine's qubits, couplers and calibration.")
@click.argument("name")
@url_option
@token_option
@tokens_file_option
@json_option
@click.pass_context
@clean_errors
def machines_show(
    ctx: click.Context,
    name: str,
    url: str | None,
    token: str | None,
    tokens_file: str | None,
    as_json: bool,
) -> None:
    """Show one machine: its qubits, couplers and calibration figures."""
    parent = ctx.obj or {}
    url = url or parent.get("url")
    token = token or parent.get("token")
    tokens_file = tokens_file or parent.get("tokens_file")
    as_json = as_json or bool(parent.get("json"))
    if url is None:
        device, display = _catalogue_device(name)
    else:
        display = None
        device = _server_device(url, name, token, tokens_file, with_calibration=True)
    info = _details(device, display)
    if as_json:
        echo_json(info)
        return
    qubit_rows = info["qubit_figures"]
    coupler_rows = info["coupler_figures"]
    click.echo(f"{device.name}" + (f" ({display})" if display else ""))
    click.echo(f"  calibration set: {device.calibration_set_id or 'unknown'}")
    click.echo(f"  qubits: {len(device.qubits)}   couplers: {len(coupler_rows)}")
    if device.resonators:
        click.echo(f"  computational resonators: {', '.join(device.resonators)}")
    click.echo(f"  native gates: {', '.join(info['gates'])}")
    medians = {
        "PRX fidelity": _fmt(_median(r["prx_fidelity"] for r in qubit_rows)),
        "CZ fidelity": _fmt(_median(r["cz_fidelity"] for r in coupler_rows)),
        "readout fidelity": _fmt(_median(r["readout_fidelity"] for r in qubit_rows)),
        "T1 (us)": _us(_median(r["t1"] for r in qubit_rows)),
        "T2 (us)": _us(_median(r["t2"] for r in qubit_rows)),
    }
    known = [f"{k} {v}" for k, v in medians.items() if v is not None]
    click.echo("  medians: " + (", ".join(known) if known else "no calibration figures"))
    click.echo("")
    click.echo(
        _table(
            ("QUBIT", "PRX FIDELITY", "READOUT FIDELITY", "T1 (us)", "T2 (us)"),
            (
                (
                    r["name"],
                    _fmt(r["prx_fidelity"]),
                    _fmt(r["readout_fidelity"]),
                    _us(r["t1"]),
                    _us(r["t2"]),
                )
                for r in qubit_rows
            ),
            right=(1, 2, 3, 4),
        )
    )
    click.echo("")
    click.echo(
        _table(
            ("COUPLER", "GATES", "CZ FIDELITY"),
            (
                ("-".join(r["pair"]), ",".join(r["gates"]), _fmt(r["cz_fidelity"]))
                for r in coupler_rows
            ),
            right=(2,),
        )
    )


def counts_table(counts: Mapping[str, int]) -> str:
    total = sum(counts.values()) or 1
    rows = [
        (k, v, f"{100 * v / total:.1f}")
        for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return _table(("OUTCOME", "COUNT", "%"), rows, right=(1, 2))


# ---------------------------------------------------------------------------------------- jobs
def _journal() -> Any:
    from iqm_bridge.core.journal import default_journal

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
    job_id: str, url: str, quantum_computer: str | None, token: str | None, tokens_file: str | None
) -> Any:
    from iqm_bridge.core.journal import default_journal
    from iqm_bridge.core.submit import Connection

    conn = Connection(
        url, quantum_computer, token, tokens_file=tokens_file, journal=default_journal()
    )
    return conn.retrieve(job_id)


def _record_status(job_id: str, status: str) -> None:
    try:
        _journal().set_status(job_id, status)
    except Exception as exc:  # the journal is a convenience; never fail a command over it
        logging.getLogger(__name__).warning("could not update the journal: %s", exc)


@main.group(short_help="Follow the jobs in the local journal.")
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
    click.echo(_table(headers, rows, right=(3, 4)))
    if len(shown) < len(entries):
        click.echo(f"(the newest {len(shown)} of {len(entries)} jobs; --all shows every one)")


job_server_options: list[Callable[[F], F]] = [
    click.option("--url", default=None, help="Server URL (default: the one in the journal)."),
    click.option("--machine", default=None, help="Quantum computer alias on that server."),
    token_option,
    tokens_file_option,
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
    token: str | None,
    tokens_file: str | None,
    as_json: bool,
) -> None:
    """Show a job: what the journal recorded and its status on the server now."""
    full_id, server, qc, entry = _job_target(job_id, url, machine)
    job = _retrieve(full_id, server, qc, token, tokens_file)
    status = job.status()
    position = None if status.is_terminal else job.queue_position()
    errors = job.error_message() if status in ("failed", "cancelled") else None
    _record_status(full_id, str(status))
    info = {
        **(_entry_json(entry) if entry is not None else {"job_id": full_id, "url": server}),
        "status": str(status),
        "queue_position": position,
        "num_circuits": job.num_circuits,
        "shots": job.shots,
        "error": errors,
    }
    if as_json:
        echo_json(info)
        return
    width = max(len(k) for k in info)
    for key, value in info.items():
        if value is not None:
            click.echo(f"{key.replace('_', ' ').ljust(width)}  {value}")


@jobs.command("cancel")
@click.argument("job_id")
@_with_server_options
@json_option
@clean_errors
def jobs_cancel(
    job_id: str,
    url: str | None,
    machine: str | None,
    token: str | None,
    tokens_file: str | None,
    as_json: bool,
) -> None:
    """Ask the server to cancel a job that has not finished."""
    full_id, server, qc, _ = _job_target(job_id, url, machine)
    job = _retrieve(full_id, server, qc, token, tokens_file)
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
    token: str | None,
    tokens_file: str | None,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Wait for a job and print each circuit's counts.

    Bitstrings are qiskit-style: registers in order from right to left, bit 0 of each on the
    right, registers separated by spaces.
    """
    from iqm_bridge.core.keys import counts_from_bits

    full_id, server, qc, _ = _job_target(job_id, url, machine)
    job = _retrieve(full_id, server, qc, token, tokens_file)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
