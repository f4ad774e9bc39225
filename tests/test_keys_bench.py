"""`hearth bench keys` drives the real chat and reports key-to-echo latency for each phase."""

from __future__ import annotations

import json

from tests.conftest import RunHearth


def test_bench_keys_types_while_idle_streaming_and_remembering(run_hearth: RunHearth) -> None:
    done = run_hearth(
        "bench", "keys", "--reply-tokens", "24", "--keys", "3", "--messages", "1", "--json",
        short=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["idle"]["keys"] == 3
    assert result["streaming"]["keys"] >= 1  # a 24-token reply takes longer than one key
    for phase in ("idle", "streaming"):
        figures = result[phase]
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
