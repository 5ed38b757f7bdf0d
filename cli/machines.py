"""``iqm-bridge machines``: the emulator's catalogue, or a server's quantum computers."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

import click

from iqm_bridge.cli._common import (
    Credentials,
    clean_errors,
    credential_options,
    echo_json,
    fmt,
    json_option,
    table,
    url_option,
    us,
)
from iqm_bridge.core import (
    Calibration,
    ConfigurationError,
    Connection,
    Device,
    MissingDependencyError,
)
from iqm_bridge.core.optional import install_hint

__all__ = ["catalogue_names", "machines"]


def _connection(url: str, quantum_computer: str | None, credentials: Credentials) -> Connection:
    credentials.check(url)
    return Connection(url, quantum_computer, journal=None, **credentials.kwargs())


def _catalogue() -> Any:
    """The emulator package, for its machine catalogue (imported when first needed)."""
    try:
        import iqm_bridge.emulator as emulator

        return emulator
    except ImportError as exc:
        raise MissingDependencyError(
            f"the emulator's machine catalogue cannot be loaded ({exc}); "
            f"{install_hint('emulator')}, or pass --url to list a server's machines"
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


# ---------------------------------------------------------------------------------- machines
@click.group(invoke_without_command=True, short_help="List the quantum computers.")
@url_option
@credential_options
@json_option
@click.pass_context
@clean_errors
def machines(
    ctx: click.Context,
    url: str | None,
    credentials: Credentials,
    as_json: bool,
) -> None:
    """List the quantum computers: the emulator's catalogue, or a server's with --url."""
    ctx.obj = {"url": url, "credentials": credentials, "json": as_json}
    if ctx.invoked_subcommand is not None:
        return
    summaries = []
    if url is None:
        for name in catalogue_names():
            device, display = _catalogue_device(name)
            summaries.append(_summary(device, display))
    else:
        for qc in _connection(url, None, credentials).quantum_computers():
            device = _connection(url, qc.alias, credentials).device
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
    click.echo(table(headers, rows, right=(1, 3)))


@machines.command("show", short_help="Show a machine's qubits, couplers and calibration.")
@click.argument("name")
@url_option
@credential_options
@json_option
@click.pass_context
@clean_errors
def machines_show(
    ctx: click.Context,
    name: str,
    url: str | None,
    credentials: Credentials,
    as_json: bool,
) -> None:
    """Show one machine: its qubits, couplers and calibration figures."""
    parent = ctx.obj or {}
    url = url or parent.get("url")
    credentials = credentials.or_(parent.get("credentials", Credentials()))
    as_json = as_json or bool(parent.get("json"))
    if url is None:
        device, display = _catalogue_device(name)
    else:
        display = None
        device = _connection(url, name, credentials).device
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
        "PRX fidelity": fmt(_median(r["prx_fidelity"] for r in qubit_rows)),
        "CZ fidelity": fmt(_median(r["cz_fidelity"] for r in coupler_rows)),
        "readout fidelity": fmt(_median(r["readout_fidelity"] for r in qubit_rows)),
        "T1 (us)": us(_median(r["t1"] for r in qubit_rows)),
        "T2 (us)": us(_median(r["t2"] for r in qubit_rows)),
    }
    known = [f"{k} {v}" for k, v in medians.items() if v is not None]
    click.echo("  medians: " + (", ".join(known) if known else "no calibration figures"))
    click.echo("")
    click.echo(
        table(
            ("QUBIT", "PRX FIDELITY", "READOUT FIDELITY", "T1 (us)", "T2 (us)"),
            (
                (
                    r["name"],
                    fmt(r["prx_fidelity"]),
                    fmt(r["readout_fidelity"]),
                    us(r["t1"]),
                    us(r["t2"]),
                )
                for r in qubit_rows
            ),
            right=(1, 2, 3, 4),
        )
    )
    click.echo("")
    click.echo(
        table(
            ("COUPLER", "GATES", "CZ FIDELITY"),
            (
                ("-".join(r["pair"]), ",".join(r["gates"]), fmt(r["cz_fidelity"]))
                for r in coupler_rows
            ),
            right=(2,),
        )
    )
