"""Command line: ``iqm-bridge emulator serve`` (also ``python -m iqm_bridge.emulator``)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import click

from iqm_bridge.emulator._circuits import Limits
from iqm_bridge.emulator._machines import MACHINE_NAMES

__all__ = ["TOKEN_ENV", "emulator", "main"]

TOKEN_ENV = "IQM_BRIDGE_EMULATOR_TOKEN"
"""Environment variable with the tokens ``emulator serve`` accepts, comma-separated."""


@click.group(name="emulator")
def emulator() -> None:
    """Run a local IQM server emulator."""


def _split_tokens(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _read_tokens(path: str) -> list[str]:
    """Tokens in a file: one per line (or comma-separated); blank lines and ``#`` comments
    are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        message = f"cannot read {path!r}: {reason}"
        raise click.BadParameter(message, param_hint="--token-file") from None
    tokens = []
    for line in text.splitlines():
        tokens += _split_tokens(line.split("#", 1)[0])
    if not tokens:
        raise click.BadParameter(f"{path!r} holds no token", param_hint="--token-file")
    return tokens


@emulator.command()
@click.option(
    "--machine",
    type=click.Choice([*MACHINE_NAMES, "all"]),
    default="garnet",
    show_default=True,
    help="Machine to serve ('all' serves every machine).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="TCP port (0: any free).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--db",
    default=":memory:",
    show_default=True,
    help="SQLite file for jobs (kept across restarts; several servers may share it).",
)
@click.option(
    "--noise/--no-noise", default=True, show_default=True, help="Simulate the calibration's noise."
)
@click.option(
    "--token",
    multiple=True,
    help=f"Accepted bearer token (repeatable; visible to other users in the process list: "
    f"prefer --token-file or {TOKEN_ENV}).",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="File of accepted tokens, one per line.",
)
@click.option("--seed", type=int, default=None, help="Seed for reproducible results.")
@click.option(
    "--max-qubits",
    type=click.IntRange(min=1),
    default=Limits().max_qubits,
    show_default=True,
    help="Most qubits a circuit may touch.",
)
@click.option(
    "--memory-budget",
    type=click.IntRange(min=1),
    default=Limits().memory_budget,
    show_default=True,
    help="Most bytes one job may need (estimated before it runs); larger jobs are refused.",
)
@click.option(
    "--queue-delay",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds each job waits in the queue before it runs.",
)
@click.option(
    "--queued",
    is_flag=True,
    help="Answer a job submission at once with the waiting job, as a real server's queue "
    "does (clients then poll), instead of when the job has finished.",
)
@click.option(
    "--rate-limit",
    default=None,
    metavar="RATE[/BURST]",
    help="Per-token limit: RATE requests/s, bursts of BURST; excess answered 429.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"url", "machines", "db"} as one line of JSON instead of the URL.',
)
def serve(
    machine: str,
    port: int,
    host: str,
    db: str,
    noise: bool,
    token: tuple[str, ...],
    token_file: str | None,
    seed: int | None,
    max_qubits: int,
    memory_budget: int,
    queue_delay: float,
    queued: bool,
    rate_limit: str | None,
    as_json: bool,
) -> None:
    """Serve the emulator until Ctrl-C; prints the URL to give to iqm-client.

    Accepted tokens come from --token, --token-file and the environment variable
    IQM_BRIDGE_EMULATOR_TOKEN (comma-separated), all together; with none, every client is
    accepted.
    """
    from iqm_bridge.core.errors import IQMBridgeError
    from iqm_bridge.emulator._ratelimit import RateLimit
    from iqm_bridge.emulator._server import Emulator

    try:
        limit = RateLimit.parse(rate_limit) if rate_limit else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rate-limit") from None
    tokens = [*token, *_split_tokens(os.environ.get(TOKEN_ENV, ""))]
    if token_file is not None:
        tokens += _read_tokens(token_file)

    emu = Emulator(
        machine=None if machine == "all" else machine,
        noise=noise,
        seed=seed,
        db=db,
        token=tuple(dict.fromkeys(tokens)) or None,
        host=host,
        port=port,
        queue_delay=queue_delay,
        limits=Limits(max_qubits=max_qubits, memory_budget=memory_budget),
        queued=queued,
        rate_limit=limit,
    )
    try:
        url = emu.start()
    except IQMBridgeError as exc:
        raise click.ClickException(" ".join(str(exc).split())) from None
    try:
        if as_json:
            info = {"url": url, "machines": list(emu.config.machines), "db": db}
            click.echo(json.dumps(info))
        else:
            click.echo(url)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


def main() -> None:
    """Entry point of ``python -m iqm_bridge.emulator``."""
    emulator(prog_name="python -m iqm_bridge.emulator")
