"""Run the compatibility suite and report, per suite, how much of the official SDK's behaviour
iqm-bridge reproduces.

Usage (from the repository root)::

    python tests/compat/report.py                 # run tests/compat with -n 2, then report
    python tests/compat/report.py -k sampler      # extra arguments go to pytest
    python tests/compat/report.py --from-xml FILE # report on an existing JUnit XML file

Every test runs once per flavour (``official``, ``bridge``). A behaviour counts only if its
``official`` run passes (the control); the ratio is how many of those also pass on
``bridge``. Each behaviour that passes on the official SDK and fails on iqm-bridge is listed
with the first line of its failure. Behaviours failing on the official SDK are listed apart:
they measure nothing and should be rewritten or removed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITES = ("qiskit", "cirq", "guides")
TARGETS = {"qiskit": 0.95, "cirq": 0.95, "guides": 0.90}
FLAVOURS = ("official", "bridge")


@dataclass(frozen=True)
class Outcome:
    """One test run: its suite, behaviour id, flavour, whether it passed, and why not."""

    suite: str
    behaviour: str
    flavour: str
    passed: bool
    reason: str


def _split_flavour(name: str) -> tuple[str, str] | None:
    """``test_x[bridge-3-dt]`` -> (``test_x[3-dt]``, ``bridge``); None without a flavour."""
    match = re.fullmatch(r"(?P<base>[^\[]+)\[(?P<params>.*)\]", name)
    if match is None:
        return None
    params = match["params"].split("-")
    flavours = [p for p in params if p in FLAVOURS]
    if len(flavours) != 1:
        return None
    rest = [p for p in params if p not in FLAVOURS]
    base = match["base"] + (f"[{'-'.join(rest)}]" if rest else "")
    return base, flavours[0]


def _suite_of(classname: str) -> str | None:
    parts = classname.split(".")
    for suite in SUITES:
        if suite in parts:
            return suite
    return None


def _reason(case: ET.Element) -> str:
    for tag in ("failure", "error"):
        node = case.find(tag)
        if node is not None:
            message = (node.get("message") or node.text or "").strip()
            first = message.splitlines()[0] if message else tag
            prefix = "ERROR (not a test failure): " if tag == "error" else ""
            return prefix + (first if len(first) <= 220 else first[:217] + "...")
    if case.find("skipped") is not None:
        return "skipped: " + (case.find("skipped").get("message") or "")
    return ""


def parse(xml_path: Path) -> list[Outcome]:
    """The outcomes of every flavoured compat test in a JUnit XML report."""
    outcomes = []
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        suite = _suite_of(case.get("classname", ""))
        split = _split_flavour(case.get("name", ""))
        if suite is None or split is None:
            continue
        behaviour, flavour = split
        module = case.get("classname", "").split(".")[-1]
        reason = _reason(case)
        passed = not reason
        outcomes.append(Outcome(suite, f"{module}::{behaviour}", flavour, passed, reason))
    return outcomes


def report(outcomes: list[Outcome]) -> int:
    """Print the per-suite summary and the lists; 1 if a suite misses its target, else 0."""
    table: dict[str, dict[str, dict[str, Outcome]]] = defaultdict(lambda: defaultdict(dict))
    for outcome in outcomes:
        table[outcome.suite][outcome.behaviour][outcome.flavour] = outcome
    status = 0
    gaps: dict[str, list[tuple[str, str]]] = {}
    broken: dict[str, list[tuple[str, str]]] = {}
    print("suite    official-pass  bridge-pass of those  ratio    target")
    for suite in SUITES:
        behaviours = table.get(suite, {})
        control = {b: runs for b, runs in behaviours.items() if _passed(runs, "official")}
        matched = [b for b, runs in control.items() if _passed(runs, "bridge")]
        ratio = len(matched) / len(control) if control else 0.0
        target = TARGETS[suite]
        if ratio < target:
            status = 1
        print(
            f"{suite:8} {len(control):13}  {len(matched):20}  {ratio:6.1%}   {target:.0%}"
            f"{'' if ratio >= target else '  (below target)'}"
        )
        gaps[suite] = sorted(
            (b, runs["bridge"].reason if "bridge" in runs else "no bridge run")
            for b, runs in control.items()
            if not _passed(runs, "bridge")
        )
        broken[suite] = sorted(
            (b, runs["official"].reason if "official" in runs else "no official run")
            for b, runs in behaviours.items()
            if b not in control
        )
    for suite in SUITES:
        if gaps[suite]:
            print(
                f"\n{suite}: passes on the official SDK, fails on iqm-bridge ({len(gaps[suite])})"
            )
            for behaviour, reason in gaps[suite]:
                print(f"  {behaviour}\n      {reason}")
    for suite in SUITES:
        if broken[suite]:
            print(f"\n{suite}: FAILS ON THE OFFICIAL SDK (measures nothing; rewrite or remove)")
            for behaviour, reason in broken[suite]:
                print(f"  {behaviour}\n      {reason}")
    return status


def _passed(runs: dict[str, Outcome], flavour: str) -> bool:
    return flavour in runs and runs[flavour].passed


def main(argv: list[str] | None = None) -> int:
    """Run (or read) the suite and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-xml", type=Path, help="report on this JUnit XML file")
    args, pytest_args = parser.parse_known_args(argv)
    if args.from_xml is not None:
        return report(parse(args.from_xml))
    with tempfile.TemporaryDirectory() as tmp:
        xml_path = Path(tmp) / "compat.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(ROOT / "tests" / "compat"),
            "-q",
            "-n",
            "2",
            "-p",
            "no:randomly",
            f"--junitxml={xml_path}",
            "-o",
            "junit_family=xunit1",
            *pytest_args,
        ]
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        tail = completed.stdout.strip().splitlines()[-1:] if completed.stdout else []
        print(f"pytest: {' '.join(tail)}\n")
        if not xml_path.exists():
            print(completed.stdout[-4000:], completed.stderr[-4000:], sep="\n")
            return 2
        return report(parse(xml_path))


if __name__ == "__main__":
    sys.exit(main())
