"""`hearth bench say`: say through a running serve, raw llama-cpp-python, and a cold say."""

from __future__ import annotations

import json

import pytest

from tests.conftest import RunHearth

pytestmark = pytest.mark.slow  # a server start and three model loads: over a minute on 2 cores


def test_bench_say_times_each_arm_and_stops_its_server(run_hearth: RunHearth) -> None:
    # A process of its own: a child's peak RSS counts the forking process's (Linux keeps the
    # high-water mark across exec), and this test process holds gigabytes of models.
    done = run_hearth(
        "bench", "say", "--runs", "1", "--tokens", "8", "--json", short=False, process=True
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["tokens"] == 8
    for name in ("served", "raw", "cold"):
        arm = result[name]
        assert len(arm["runs"]) == 1
        assert 0 < arm["median_wall_s"] < 600
        assert 10 < arm["median_max_rss_mib"] < 16_384
    # The client alone holds no model; the cold say loads one, as the raw script does.
    assert result["served"]["median_max_rss_mib"] < result["raw"]["median_max_rss_mib"]
    assert result["cold"]["median_max_rss_mib"] > result["raw"]["median_max_rss_mib"]
    assert result["ratio"] == pytest.approx(
        result["served"]["median_wall_s"] / result["raw"]["median_wall_s"]
    )
