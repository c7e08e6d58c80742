"""The app's speed under Streamlit's AppTest (the whole script): first run, and reruns after a slider change."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from bench.common import save
from mpg import config

APP = str(config.PROJ_ROOT / "streamlit_app.py")
FIRST_RUN = (
    "import time\nfrom streamlit.testing.v1 import AppTest\n"
    f"began = time.perf_counter()\nat = AppTest.from_file({APP!r}, default_timeout=60).run()\n"
    "assert not at.exception\nprint(time.perf_counter() - began)"
)


def main(first_runs: int = 3, reruns: int = 40) -> dict:
    from streamlit.testing.v1 import AppTest

    # Each first run in a fresh process (caches empty, the app's imports not yet done); streamlit itself
    # is imported beforehand, as it is in a running server.
    first = [float(subprocess.run([sys.executable, "-c", FIRST_RUN], check=True, capture_output=True, text=True,
                                  cwd=config.PROJ_ROOT).stdout.split()[-1]) for _ in range(first_runs)]  # fmt: skip
    at = AppTest.from_file(APP, default_timeout=60).run()
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
