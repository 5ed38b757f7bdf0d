"""Hostile input never gets a 5xx: random JSON bodies, ids, types and sizes (hypothesis)."""

from __future__ import annotations

import json

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

API = "/api/v1"
_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)

names = st.sampled_from(
    ["prx", "cz", "move", "measure", "cc_prx", "reset", "barrier", "delay", "u", "x", ""]
)
components = st.sampled_from(["QB1", "QB2", "QB3", "QB20", "QB21", "CR1", "", "qb1"])
args = st.dictionaries(
    st.sampled_from(["angle", "phase", "key", "feedback_key", "feedback_qubit", "duration"]),
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.text(max_size=5),
        st.sampled_from(["QB1", "m", "f"]),
        st.none(),
    ),
    max_size=4,
)
instruction = st.fixed_dictionaries(
    {"name": names, "locus": st.lists(components, max_size=3), "args": args}
)
bodies = st.fixed_dictionaries(
    {
        "circuits": st.lists(
            st.fixed_dictionaries(
                {"name": st.text(max_size=5), "instructions": st.lists(instruction, max_size=6)}
            ),
            max_size=3,
        ),
        "shots": st.one_of(st.integers(min_value=-5, max_value=2_000_000), st.text(max_size=3)),
    },
    optional={
        "calibration_set_id": st.one_of(st.none(), st.uuids().map(str), st.text(max_size=8)),
        "qubit_mapping": st.one_of(st.none(), json_values),
        "heralding_mode": st.sampled_from(["none", "zeros", "bogus"]),
        "move_gate_validation": st.sampled_from(["strict", "allow_prx", "none", 3]),
    },
)


def _check(resp: requests.Response) -> None:
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        body = resp.json()
        assert isinstance(body["message"], str) and body["source"] == "iqm-server"


@_SETTINGS
@given(body=json_values)
def test_random_json_bodies(emulator_url: str, body: object) -> None:
    _check(
        requests.post(f"{emulator_url}{API}/jobs/garnet/circuit", data=json.dumps(body), timeout=30)
    )


@_SETTINGS
@given(body=bodies)
def test_structured_but_wrong_job_bodies(emulator_url: str, body: dict) -> None:
    resp = requests.post(
        f"{emulator_url}{API}/jobs/garnet/circuit?use_timeslot=false",
        data=json.dumps(body),
        timeout=60,
    )
    _check(resp)


segments = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#%"),
    min_size=1,
    max_size=40,
) | st.uuids().map(str)


@_SETTINGS
@given(
    segment=segments,
    path=st.sampled_from(
        [
            "/jobs/{}",
            "/jobs/{}/payload",
            "/jobs/{}/artifacts/measurements",
            "/jobs/{}/artifacts/{}",
            "/calibration-sets/{}/default",
            "/calibration-sets/garnet/{}/metrics",
            "/calibration-sets/garnet/{}/dynamic-quantum-architecture",
            "/quantum-computers/{}/health",
        ]
    ),
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
)
def test_random_paths_and_methods(emulator_url: str, segment: str, path: str, method: str) -> None:
    url = f"{emulator_url}{API}{path.format(segment, segment)}"
    _check(requests.request(method, url, timeout=10))
