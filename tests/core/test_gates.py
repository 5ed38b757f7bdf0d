"""The gate table: one entry per vocabulary gate with its unitary, arity and lowering."""

from __future__ import annotations

import numpy as np
import pytest

from iqm_bridge.core import GATES, NATIVE_GATES, UnsupportedOperationError, gate_def, gate_unitary


def test_table_has_the_required_vocabulary() -> None:
    required = (
        "id x y z h s sdg t tdg sx sxdg rx ry rz r prx u u3 phase p "
        "cx cy cz cp cphase crz swap iswap ccx ccz"
    )
    missing = [name for name in required.split() if name not in GATES]
    assert missing == []


@pytest.mark.parametrize("name", sorted({g.name for g in GATES.values()}))
def test_every_unitary_is_unitary(name: str) -> None:
    definition = gate_def(name)
    params = [0.37 * (i + 1) for i in range(definition.num_params)]
    u = gate_unitary(name, params)
    assert u.shape == (2**definition.num_qubits, 2**definition.num_qubits)
    assert np.abs(u.conj().T @ u - np.eye(len(u))).max() < 1e-12


def test_natives_are_in_the_table() -> None:
    assert {"prx", "cz"} <= set(NATIVE_GATES) <= set(GATES)


def test_an_unknown_name_is_named() -> None:
    with pytest.raises(UnsupportedOperationError, match="'foo'"):
        gate_def("foo")
