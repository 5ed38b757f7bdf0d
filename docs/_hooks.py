"""MkDocs hook: draw the pictures the pages show, fresh on every build.

The device pictures come from the emulator's machine catalogue through
:func:`iqm_bridge.visualization.plot_device`; the histogram is a real run of a GHZ circuit on a
noisy emulated Garnet. Nothing generated is committed: the PNGs exist only in the built site.
"""

from __future__ import annotations

import io
import logging
from typing import Any

log = logging.getLogger("mkdocs.hooks.pictures")

DEVICE_PICTURES = {
    # path in the site: (machine, metric)
    "assets/machines/garnet.png": ("garnet", "cz_fidelity"),
    "assets/machines/garnet-t1.png": ("garnet", "t1"),
    "assets/machines/deneb.png": ("deneb", "cz_fidelity"),
    "assets/machines/emerald.png": ("emerald", "readout_fidelity"),
    "assets/machines/adonis.png": ("adonis", "prx_fidelity"),
}
HISTOGRAM = "assets/ghz-histogram.png"
MITIGATION = "assets/mitigation-ghz-parity.png"


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def device_pictures() -> dict[str, bytes]:
    """PNG bytes of every device picture, by site path."""
    import importlib

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from iqm_bridge.visualization import plot_device

    catalogue = importlib.import_module("iqm_bridge.emulator._machines")
    out = {}
    for path, (name, metric) in DEVICE_PICTURES.items():
        ax = plot_device(catalogue.get_machine(name).device, metric)
        out[path] = _png(ax.figure)
        plt.close(ax.figure)
    return out


def ghz_histogram(shots: int = 2000) -> bytes:
    """PNG bytes of a 5-qubit GHZ histogram from a noisy emulated Garnet."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from iqm_bridge.core import run
    from iqm_bridge.core.ir import Circuit, Gate, Measure
    from iqm_bridge.core.keys import KeyMap, Register, counts_from_bits
    from iqm_bridge.core.options import RunOptions
    from iqm_bridge.core.submit import Connection
    from iqm_bridge.emulator import Emulator
    from iqm_bridge.visualization import plot_histogram

    qubits = tuple(f"q{i}" for i in range(5))
    ops: list[Any] = [Gate("h", (qubits[0],))]
    ops += [Gate("cx", (a, b)) for a, b in zip(qubits, qubits[1:], strict=False)]
    ops.append(Measure(qubits, KeyMap.encode(Register("c", 5), 0, 0)))
    circuit = Circuit(qubits=qubits, operations=tuple(ops), name="ghz5")
    with Emulator(machine="garnet", noise=True, seed=7) as url:
        connection = Connection(url, journal=None, progress=False)
        (result,) = run(connection, [circuit], RunOptions(shots=shots), seed=1).result()
    counts = counts_from_bits(result.bits.memory())
    ax = plot_histogram(counts, top=8, title=f"GHZ-5 on noisy emulated Garnet ({shots} shots)")
    png = _png(ax.figure)
    plt.close(ax.figure)
    return png


def mitigation_sweep(shots: int = 4000) -> bytes:
    """PNG bytes of GHZ-n parities on a noisy emulated Garnet: raw, readout-mitigated, with
    the emulator's readout error switched off, and exact."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from iqm_bridge.core import Circuit, Connection, Executor, Gate, Measure, Program, RunOptions
    from iqm_bridge.core.keys import KeyMap, Register
    from iqm_bridge.core.mitigation import expectation
    from iqm_bridge.emulator import Emulator

    chain = ("QB1", "QB2", "QB5", "QB6", "QB7", "QB12", "QB11", "QB10", "QB9", "QB8")
    sizes = (2, 4, 6, 8, 10)

    def ghz(n: int, off: bool) -> Circuit:
        qubits = chain[:n]
        ops: list[Any] = [Gate("h", (qubits[0],))]
        ops += [Gate("cx", (a, b)) for a, b in zip(qubits, qubits[1:], strict=False)]
        ops.append(Measure(qubits, KeyMap.encode(Register("m", n), 0, 0)))
        meta = {"emulator_noise": {"readout": False}} if off else {}
        return Circuit(qubits, ops, f"ghz{n}", meta)

    series: dict[str, list[tuple[float, float]]] = {"raw": [], "mitigated": [], "off": []}
    with Emulator(machine="garnet", noise=True, seed=11) as url:
        conn = Connection(url, journal=None, progress=False)
        executor = Executor(conn, mitigation="readout")
        programs = [
            Program(ghz(n, off), placement="device") for off in (False, True) for n in sizes
        ]
        results = [g[0] for g in executor.submit(programs, RunOptions(shots=shots)).result()]
    for i, n in enumerate(sizes):
        noisy, off = results[i], results[len(sizes) + i]
        cols = list(range(n))
        for name, res, errs in (
            ("raw", noisy, None),
            ("mitigated", noisy, noisy.readout),
            ("off", off, None),
        ):
            est = expectation(res.bits.memory(), cols, errs)
            series[name].append((est.value, est.stderr))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    labels = {"raw": "raw", "mitigated": "readout-mitigated", "off": "readout error switched off"}
    for name, points in series.items():
        values, errors = zip(*points, strict=True)
        ax.errorbar(
            sizes, values, yerr=[2 * e for e in errors], marker="o", capsize=3, label=labels[name]
        )
    ax.plot(sizes, [1.0] * len(sizes), "k--", label="exact")
    ax.set_xlabel("GHZ qubits n")
    ax.set_ylabel("<Z...Z> (error bars: 2 standard errors)")
    ax.set_title(f"GHZ parity on noisy emulated Garnet ({shots} shots per point)")
    ax.legend(loc="lower left")
    png = _png(fig)
    plt.close(fig)
    return png


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pictures to the site's files."""
    from mkdocs.structure.files import File

    pictures = device_pictures()
    pictures[HISTOGRAM] = ghz_histogram()
    pictures[MITIGATION] = mitigation_sweep()
    for path, content in pictures.items():
        files.append(File.generated(config, path, content=content))
    log.info("drew %d pictures", len(pictures))
    return files
