"""The ``iqm-bridge`` command line: the top layer, above the core, the adapters and the emulator.

``iqm-bridge machines`` lists quantum computers (the emulator's catalogue, or a server's with
``--url``), ``iqm-bridge run`` runs an OpenQASM file, ``iqm-bridge jobs`` reads the local job
journal and follows its jobs, and ``iqm-bridge emulator serve`` starts a local IQM server.
Every listing has a ``--json`` form for scripts; errors are one line on stderr and a non-zero
exit code. Commands are imported when used, so a command whose extra is missing says which
extra to install instead of breaking the others (or ``--help``).
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from iqm_bridge.core.optional import install_hint

__all__ = ["main"]

_COMMANDS: dict[str, tuple[str, str, str]] = {
    "emulator": ("iqm_bridge.emulator.cli", "emulator", "emulator"),
    "jobs": ("iqm_bridge.cli.jobs", "jobs", ""),
    "machines": ("iqm_bridge.cli.machines", "machines", ""),
    "run": ("iqm_bridge.cli.run", "run", "qiskit"),
}
"""Command name -> (module, attribute, the extra it needs)."""


def _missing(name: str, extra: str, reason: str) -> click.Command:
    hint = install_hint(extra)

    @click.command(
        name=name,
        short_help=f"(needs the '{extra}' extra: {hint})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def stub(args: tuple[str, ...]) -> None:
        del args
        raise click.ClickException(f"'{name}' needs the '{extra}' extra ({reason}): {hint}")

    return stub


class _LazyGroup(click.Group):
    """Imports each command's module only when the command is used or listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in _COMMANDS:
            return command
        module, attribute, extra = _COMMANDS[cmd_name]
        try:
            loaded: click.Command = getattr(importlib.import_module(module), attribute)
        except ImportError as exc:
            return _missing(cmd_name, extra or "all", str(exc))
        return loaded


@click.group(cls=_LazyGroup)
@click.version_option(package_name="iqm-bridge")
def main() -> None:
    """Run circuits on IQM quantum computers, or on the local emulator."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
