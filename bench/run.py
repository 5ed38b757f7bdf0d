"""Run the benchmarks: ``python bench/run.py [NAME ...]``.

Each ``bench/bench_<area>.py`` module defines ``BENCHMARKS``, a list of functions that each
measure ours and the anchor in the same run and return a :class:`Figure` (or a list of them).
NAME filters by substring of the function or figure name. One ``BENCH`` line per figure is
printed, then a human table.
"""

from __future__ import annotations

import importlib
import pathlib
import sys
import traceback

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import Figure  # noqa: E402


def _modules() -> list[str]:
    return sorted(p.stem for p in HERE.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    wanted = argv[1:]
    figures: list[Figure] = []
    failures = 0
    for modname in _modules():
        module = importlib.import_module(modname)
        for fn in getattr(module, "BENCHMARKS", []):
            label = f"{modname.removeprefix('bench_')}.{fn.__name__}"
            if wanted and not any(w in label for w in wanted):
                continue
            try:
                result = fn()
            except Exception:  # a broken benchmark must not hide the others
                failures += 1
                print(f"BENCH-ERROR {label}", flush=True)
                traceback.print_exc()
                continue
            for fig in result if isinstance(result, list) else [result]:
                figures.append(fig)
                print(fig.line(), flush=True)
    if figures:
        width = max(len(f.name) for f in figures)
        print()
        print(f"{'figure':<{width}}  {'ours':>12}  {'anchor':>12}  {'ratio':>8}  {'goal':>6}  ok")
        for f in figures:
            print(
                f"{f.name:<{width}}  {f.ours:>12.5g}  {f.anchor:>12.5g}  {f.ratio:>8.3g}  "
                f"{f.goal:>6g}  {'yes' if f.ok else 'NO'}  {f.unit} {f.note}"
            )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
