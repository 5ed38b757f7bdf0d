"""Find the runnable Python blocks of the documentation's Markdown pages.

A block is a fenced ```` ```python ```` block. It is skipped when the line just before its
opening fence (ignoring blank lines) is ``<!-- skip -->``: blocks that need a real server's
credentials, or that show code from another package for comparison.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
SKIP_MARK = "<!-- skip -->"
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")


@dataclass(frozen=True)
class Snippet:
    """One fenced code block.

    Attributes:
        page: the Markdown file.
        line: 1-based line of the block's first code line.
        language: the fence's language (``python``, ``bash``, ...).
        code: the block's text, dedented.
        skipped: whether the page marks it ``<!-- skip -->``.
    """

    page: Path
    line: int
    language: str
    code: str
    skipped: bool


def snippets(page: Path) -> list[Snippet]:
    """Every fenced block of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    out: list[Snippet] = []
    i = 0
    previous = ""
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        fence = match.group("fence")
        info = match.group("info").strip()
        language = info.split()[0].lstrip(".{").rstrip("}") if info else ""
        start = i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        body = textwrap.dedent("\n".join(lines[start:j]))
        out.append(Snippet(page, start + 1, language.lower(), body, previous == SKIP_MARK))
        previous = ""
        i = j + 1
    return out


def runnable(page: Path) -> list[Snippet]:
    """The Python blocks of ``page`` that the tests run."""
    return [s for s in snippets(page) if s.language in {"python", "py"} and not s.skipped]


def pages() -> list[Path]:
    """Every Markdown page of the documentation."""
    return sorted(DOCS.rglob("*.md"))


def script(page: Path) -> str:
    """A Python program that runs the page's blocks in order in one namespace.

    Each block is compiled under the page's file name and padded so that a traceback points at
    the block's own line in the Markdown file.
    """
    blocks = [(s.line, s.code) for s in runnable(page)]
    return (
        "import sys\n"
        f"_blocks = {blocks!r}\n"
        f"_page = {str(page)!r}\n"
        "_namespace = {'__name__': '__main__'}\n"
        "for _line, _code in _blocks:\n"
        "    print(f'--- block at {_page}:{_line}', flush=True)\n"
        "    exec(compile('\\n' * (_line - 1) + _code, _page, 'exec'), _namespace)\n"
    )
