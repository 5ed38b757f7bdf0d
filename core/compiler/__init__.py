"""The compiler: any vocabulary circuit -> IQM natives on the device's real components.

A level is a list of passes over one state (:mod:`.pipeline`): lower to natives
(:mod:`.lowering`), place (:mod:`.placement` on the :mod:`.coupling` map), route with SWAPs or
MOVEs (:mod:`.routing`), fuse single-qubit runs (:mod:`.optimize`), re-synthesise two-qubit
runs (:mod:`.synthesis`) and check the result (:mod:`.validation`); routing choices and the
final placement are scored by the estimated success probability (:mod:`.success`), which
the report states. Symbolic circuits compile once into a :class:`~.templates.Template` and
bind many times.
"""

from iqm_bridge.core.compiler.lowering import lower, lower_gate
from iqm_bridge.core.compiler.pipeline import (
    DEFAULT_LEVEL,
    LEVELS,
    CompileReport,
    CompileResult,
    PassReport,
    circuit_depth,
    compile,
    decompose,
)
from iqm_bridge.core.compiler.templates import (
    Template,
    clear_template_cache,
    get_template,
    template_cache_info,
)
from iqm_bridge.core.compiler.validation import validate, validate_native

__all__ = [
    "DEFAULT_LEVEL",
    "LEVELS",
    "CompileReport",
    "CompileResult",
    "PassReport",
    "Template",
    "circuit_depth",
    "clear_template_cache",
    "compile",
    "decompose",
    "get_template",
    "lower",
    "lower_gate",
    "template_cache_info",
    "validate",
    "validate_native",
]
