"""The app's speed under Streamlit's AppTest (the whole script): first run, and reruns after a slider change."""

from __future__ import annotations

import statistics
import time

from bench.common import save
from mpg import config

APP = str(config.PROJ_ROOT / "streamlit_app.py")


def main(first_runs: int = 3, reruns: int = 40) -> dict:
    from streamlit.testing.v1 import AppTest

    first = []
    for _ in range(first_runs):
        began = time.perf_counter()
        at = AppTest.from_file(APP, default_timeout=60).run()
        first.append(time.perf_counter() - began)
        assert not at.exception
    times = []
    for i in range(reruns):
        began = time.perf_counter()
        at.slider(key="input_Weight").set_value(2000.0 + 50 * i).run()
        times.append(time.perf_counter() - began)
    assert not at.exception
    result = {
        "first_run_s": {"median": statistics.median(first), "runs": first},
        "rerun_ms": {
            "median": statistics.median(times) * 1000,
            "p90": sorted(times)[int(0.9 * len(times))] * 1000,
            "runs": len(times),
        },
    }
    print(result)
    return save("app", result)


if __name__ == "__main__":
    main()
