"""Command line: ``iqm-bridge emulator serve`` (also ``python -m iqm_bridge.emulator``)."""

from __future__ import annotations

import threading

import click

from iqm_bridge.emulator._machines import MACHINE_NAMES

__all__ = ["emulator", "main"]


@click.group(name="emulator")
def emulator() -> None:
    """Run a local IQM server emulator."""


@emulator.command()
@click.option(
    "--machine",
    type=click.Choice([*MACHINE_NAMES, "all"]),
    default="garnet",
    show_default=True,
    help="Machine to serve ('all' serves every machine).",
)
@click.option("--port", type=int, default=0, show_default=True, help="TCP port (0: any free).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--db", default=":memory:", show_default=True, help="SQLite file for jobs.")
@click.option(
    "--noise/--no-noise", default=True, show_default=True, help="Simulate the calibration's noise."
)
@click.option("--token", multiple=True, help="Accepted bearer token (repeatable).")
@click.option("--seed", type=int, default=None, help="Seed for reproducible results.")
@click.option(
    "--max-qubits", type=int, default=24, show_default=True, help="Most qubits a circuit may touch."
)
@click.option(
    "--queue-delay",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds each job waits in the queue before it runs.",
)
@click.option(
    "--rate-limit",
    default=None,
    metavar="RATE[/BURST]",
    help="Per-token limit: RATE requests/s, bursts of BURST; excess answered 429.",
)
def serve(
    machine: str,
    port: int,
    host: str,
    db: str,
    noise: bool,
    token: tuple[str, ...],
    seed: int | None,
    max_qubits: int,
    queue_delay: float,
    rate_limit: str | None,
) -> None:
    """Serve the emulator until Ctrl-C; prints the URL to give to iqm-client."""
    from iqm_bridge.emulator._ratelimit import RateLimit
    from iqm_bridge.emulator._server import Emulator

    try:
        limit = RateLimit.parse(rate_limit) if rate_limit else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rate-limit") from None

    emu = Emulator(
        machine=None if machine == "all" else machine,
        noise=noise,
        seed=seed,
        db=db,
        token=token or None,
        host=host,
        port=port,
        queue_delay=queue_delay,
        max_qubits=max_qubits,
        rate_limit=limit,
    )
    url = emu.start()
    click.echo(url, nl=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


def main() -> None:
    """Entry point of ``python -m iqm_bridge.emulator``."""
    emulator(prog_name="python -m iqm_bridge.emulator")
