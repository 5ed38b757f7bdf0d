"""``Emulator(deduplicate=False)``: a server without idempotent submission, for client tests.

With the switch off the emulator behaves like an IQM server that does not know the client's
submission id: ``GET /api/v1/about`` lists no ``idempotent-submission`` feature and every POST
creates a new job, a resent copy included. The SDK must then never resend a submission whose
answer was lost (it raises :class:`AmbiguousSubmissionError` instead), so no job is ever
duplicated. Checked once against the broken variant: with ``sid = parsed.submission_id`` left
unconditional in ``EmulatorApp.submit`` the resent POST returns the first job and
``test_resent_post_makes_a_second_job`` fails; with the feature still listed in ``about`` the
client resends to a server that makes a job per copy, and the last two tests fail.
"""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Callable
from typing import Any

import pytest
import requests

from iqm_bridge.core import run
from iqm_bridge.core.errors import AmbiguousSubmissionError
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection, RetryPolicy
from iqm_bridge.core.wire import SUBMISSION_FEATURE, SUBMISSION_METADATA_KEY
from iqm_bridge.emulator import FaultOptions

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "reliability"))
from _rel import x_ghz_circuit  # noqa: E402

SUBMIT_PATH = ("/api/v1/jobs/garnet/circuit",)


def _body(submission_id: str) -> dict[str, Any]:
    return {
        "circuits": [
            {
                "name": "c",
                "instructions": [
                    {"name": "prx", "locus": ["QB1"], "args": {"angle": 3.14159, "phase": 0.0}},
                    {"name": "measure", "locus": ["QB1"], "args": {"key": "m"}},
                ],
                "metadata": {SUBMISSION_METADATA_KEY: submission_id},
            }
        ],
        "shots": 10,
    }


def _features(url: str) -> list[str]:
    return list(requests.get(f"{url}/api/v1/about", timeout=10).json()["features"])


@pytest.mark.parametrize("deduplicate", [True, False])
def test_resent_post_makes_a_second_job(
    emulator_factory: Callable[..., Any], deduplicate: bool
) -> None:
    emu = emulator_factory(machine="garnet", noise=False, seed=3, deduplicate=deduplicate)
    url = f"{emu.url}/api/v1/jobs/garnet/circuit?use_timeslot=false"
    first = requests.post(url, json=_body("sub-1"), timeout=10).json()
    again = requests.post(url, json=_body("sub-1"), timeout=10).json()
    assert (SUBMISSION_FEATURE in _features(emu.url)) is deduplicate
    if deduplicate:
        assert again["id"] == first["id"]
        assert emu.job_count() == 1
    else:
        assert again["id"] != first["id"]
        assert emu.job_count() == 2
        for job in (first, again):  # both copies really ran
            meas = requests.get(
                f"{emu.url}/api/v1/jobs/{job['id']}/artifacts/measurements", timeout=10
            ).json()
            assert [row[0] for row in meas[0]["m"]] == [1] * 10


def test_client_reads_the_feature_from_about(emulator_factory: Callable[..., Any]) -> None:
    on = emulator_factory(machine="garnet", noise=False)
    off = emulator_factory(machine="garnet", noise=False, deduplicate=False)
    assert Connection(on.url, journal=None).idempotent_submissions is True
    assert Connection(off.url, journal=None).idempotent_submissions is False


@pytest.mark.parametrize("deduplicate", [True, False])
def test_client_does_not_resend_to_a_server_without_the_feature(
    emulator_factory: Callable[..., Any], deduplicate: bool
) -> None:
    """Every answer to a job submission is lost after the server made the job.

    Deduplicating server: the client resends (4 tries) and each copy finds the first job.
    Without deduplication: the client does not resend at all. Either way the error names the
    submission id and the server holds exactly one job.
    """
    faults = FaultOptions(drop_after_rate=1.0, paths=SUBMIT_PATH)
    emu = emulator_factory(machine="garnet", noise=False, faults=faults, deduplicate=deduplicate)
    conn = Connection(emu.url, journal=None, retry=RetryPolicy(attempts=4, max_delay=0.01))
    expected = r"sent 4 times .* deduplicates" if deduplicate else "not resent"
    with pytest.raises(AmbiguousSubmissionError, match=expected) as info:
        run(conn, [x_ghz_circuit()], RunOptions(shots=8))
    assert SUBMISSION_METADATA_KEY in str(info.value)
    assert emu.injected_faults["drop_after"] == (4 if deduplicate else 1)
    assert emu.job_count() == 1
