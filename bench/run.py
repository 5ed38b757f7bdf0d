"""Run the benchmarks: ``python bench/run.py [NAME ...]``.

Each ``bench/bench_<area>.py`` module defines ``BENCHMARKS``, a list of functions that each
measure ours and the anchor in the same run and return a :class:`Figure` (or a list of them;
a :class:`Target` where nothing comparable can run beside us). NAME filters by substring of
the module-qualified function name. One ``BENCH`` line per figure is printed, then a human
table whose last column says what each anchor is.
"""

from __future__ import annotations

import importlib
import pathlib
import sys
import traceback

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import Figure, Target  # noqa: E402


def _modules() -> list[str]:
    return sorted(p.stem for p in HERE.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    wanted = argv[1:]
    figures: list[Figure | Target] = []
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
        print()
        print(_table(figures))
    return 1 if failures else 0


def _table(figures: list[Figure | Target]) -> str:
    """The human table: one row per figure, what its anchor is (or its target) last."""
    width = max(len(f.name) for f in figures)
    head = f"{'figure':<{width}}  {'ours':>11}  {'anchor':>11}  {'ratio':>7}  {'goal':>9}  ok"
    rows = [head]
    for f in figures:
        if isinstance(f, Target):
            anchor, ratio, goal = "-", "-", f"<={f.target:g}"
            what = f"target, no anchor. {f.note}"
        else:
            anchor, ratio, goal = f"{f.anchor:.5g}", f"{f.ratio:.3g}", f"{f.goal:g}"
            what = f"vs {f.against or '?'}. {f.note}"
        rows.append(
            f"{f.name:<{width}}  {f.ours:>11.5g}  {anchor:>11}  {ratio:>7}  {goal:>9}  "
            f"{'yes' if f.ok else 'NO ':<3}  {f.unit:<5} {what.strip()}"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
