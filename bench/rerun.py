"""The app's rerun after a slider change (AppTest), this code against the code before this round, same run.

Both in fresh processes with the same script, alternating, so a slow spell of the machine hits both.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from bench.baseline import BASELINE_REF, checkout
from bench.common import save
from mpg import config

# Run inside the tree being measured: its streamlit_app.py, its mpg package, its model.
SCRIPT = """
import statistics, sys, time
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("streamlit_app.py", default_timeout=60).run()
assert not at.exception, at.exception
times = []
for i in range(int(sys.argv[1])):
    began = time.perf_counter()
    at.slider(key="input_Weight").set_value(2000.0 + 50 * i).run()
    times.append(time.perf_counter() - began)
assert not at.exception, at.exception
print(statistics.median(times) * 1000)
"""


def _median_ms(tree, count: int) -> float:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(count)], cwd=tree, check=True, capture_output=True,
                         text=True).stdout  # fmt: skip
    return float(out.split()[-1])


def main(count: int = 40, rounds: int = 3) -> dict:
    ours, before = [], []
    with checkout() as tree:
        for _ in range(rounds):
            ours.append(_median_ms(config.PROJ_ROOT, count))
            before.append(_median_ms(tree, count))
    result = {
        "reruns_per_round": count,
        "baseline_ref": BASELINE_REF,
        "ours_ms": statistics.median(ours),
        "before_ms": statistics.median(before),
        "rounds": {"ours": ours, "before": before},
        "ratio": statistics.median(ours) / statistics.median(before),
    }
    print(result)
    return save("rerun", result)


if __name__ == "__main__":
    main()
