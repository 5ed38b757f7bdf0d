"""The ``iqm-bridge`` command line."""

from __future__ import annotations

import click

__all__ = ["main"]


class _LazyGroup(click.Group):
    """Mounts the emulator's command group only when it is asked for (it imports a server)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "emulator"])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "emulator":
            try:
                from iqm_bridge.emulator.cli import emulator  # type: ignore[import-not-found,unused-ignore]
            except ImportError as exc:
                raise click.ClickException(
                    f"the emulator is not installed ({exc}); pip install 'iqm-bridge[emulator]'"
                ) from None
            command: click.Command = emulator
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="iqm-bridge")
def main() -> None:
    """Run circuits on IQM quantum computers, or on the local emulator."""
