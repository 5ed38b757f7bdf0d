"""What every command shares: one-line errors, JSON output, tables, server options."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs
import click

from iqm_bridge.core import ConfigurationError, IQMBridgeError

__all__ = [
    "DEBUG_ENV",
    "Credentials",
    "check_token_transport",
    "clean_errors",
    "counts_table",
    "credential_options",
    "echo_json",
    "fmt",
    "json_option",
    "table",
    "url_option",
    "us",
]

F = TypeVar("F", bound=Callable[..., Any])

DEBUG_ENV = "IQM_BRIDGE_DEBUG"


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
            if os.environ.get(DEBUG_ENV):
                raise
            message = str(exc)
            if not isinstance(exc, IQMBridgeError):
                message = f"{type(exc).__name__}: {message}"
            raise click.ClickException(" ".join(message.split())) from None

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    click.echo(json.dumps(data, indent=2))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Iterable[int] = ()) -> str:
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


def counts_table(counts: Mapping[str, int]) -> str:
    """Outcomes by count, with their share."""
    total = sum(counts.values()) or 1
    rows = [
        (k, v, f"{100 * v / total:.1f}")
        for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return table(("OUTCOME", "COUNT", "%"), rows, right=(1, 2))


def fmt(value: float | None, digits: int = 4) -> str | None:
    """A figure with ``digits`` decimals, or ``None``."""
    return None if value is None else f"{value:.{digits}f}"


def us(value: float | None) -> str | None:
    """Seconds as microseconds with one decimal, or ``None``."""
    return None if value is None else f"{value * 1e6:.1f}"


def check_token_transport(
    url: str | None, token: str | None, insecure: bool, tokens_file: str | None = None
) -> None:
    """Refuse to send a token over plain http to another machine unless ``--insecure``.

    Raises:
        ConfigurationError: a token would travel in clear text and ``insecure`` is False.
    """
    if url is None:
        return
    from iqm_bridge.core.submit.connection import insecure_token_host

    host = insecure_token_host(url, token, tokens_file)
    if host is not None and not insecure:
        raise ConfigurationError(
            f"refusing to send the API token over plain http to {host}: anyone on the way "
            "could read it; use an https:// URL, or pass --insecure if you accept that"
        )


url_option = click.option(
    "--url",
    envvar="IQM_SERVER_URL",
    default=None,
    help="IQM server root URL (default: IQM_SERVER_URL, else the emulator).",
)
token_option = click.option(
    "--token", default=None, help="API token (default: IQM_TOKEN as iqm-client reads it)."
)
tokens_file_option = click.option(
    "--tokens-file", default=None, help="Tokens file (default: IQM_TOKENS_FILE)."
)
insecure_option = click.option(
    "--insecure",
    is_flag=True,
    help="Allow sending the token over plain http to another machine.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@attrs.frozen
class Credentials:
    """How a command authenticates: ``--token``, ``--tokens-file`` and ``--insecure``."""

    token: str | None = None
    tokens_file: str | None = None
    insecure: bool = False

    def check(self, url: str | None) -> None:
        """Refuse plain-http token transport to ``url`` unless ``--insecure`` (see
        :func:`check_token_transport`)."""
        check_token_transport(url, self.token, self.insecure, self.tokens_file)

    def or_(self, fallback: Credentials) -> Credentials:
        """These credentials, with what they leave unset taken from ``fallback``."""
        return Credentials(
            self.token or fallback.token,
            self.tokens_file or fallback.tokens_file,
            self.insecure or fallback.insecure,
        )

    def kwargs(self) -> dict[str, Any]:
        """The set ones, as keyword arguments of ``Connection`` and the providers."""
        given = {"token": self.token, "tokens_file": self.tokens_file}
        return {k: v for k, v in given.items() if v is not None}


def credential_options(fn: F) -> F:
    """Add ``--token``, ``--tokens-file`` and ``--insecure``; the command receives them as one
    ``credentials: Credentials`` argument."""

    @functools.wraps(fn)
    def wrapper(
        *args: Any, token: str | None, tokens_file: str | None, insecure: bool, **kwargs: Any
    ) -> Any:
        return fn(*args, credentials=Credentials(token, tokens_file, insecure), **kwargs)

    command: Any = wrapper
    for option in (insecure_option, tokens_file_option, token_option):
        command = option(command)
    return command  # type: ignore[no-any-return]
