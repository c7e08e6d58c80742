"""mpg's public API: the names it exports, and the example in its docstring, run as a doctest."""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

import mpg
from mpg import config


def test_the_docstring_example_runs():
    result = doctest.testmod(mpg, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


def test_every_public_name_is_importable_from_mpg():
    for name in mpg.__all__:
        assert getattr(mpg, name) is not None, name
    with pytest.raises(AttributeError):
        mpg.no_such_name  # noqa: B018


def test_predict_takes_cars_as_the_contract_declares_them():
    model = mpg.load_model()
    corolla = {"cylinders": 4, "displacement": 108, "horsepower": 75, "weight": 2350, "acceleration": 16.8,
               "model_year": 81, "origin": "Japan"}  # fmt: skip
    as_car = mpg.predict(model, mpg.Car(**corolla))
    as_dict = mpg.predict(model, corolla)
    assert as_car.mpg.tolist() == as_dict.mpg.tolist() and as_car.lower[0] < as_car.mpg[0] < as_car.upper[0]


@pytest.mark.slow  # a fresh interpreter
def test_importing_the_config_loads_nothing_else():
    code = "import sys, mpg.config; print(sorted(m for m in ('pandas', 'pydantic', 'numpy') if m in sys.modules))"
    shown = subprocess.run([sys.executable, "-c", code], cwd=config.PROJ_ROOT, capture_output=True, text=True)
    assert shown.stdout.strip() == "[]", shown.stderr


def test_the_readmes_python_example_runs_as_printed():
    readme = (config.PROJ_ROOT / "README.md").read_text()
    block = readme.split("## From Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    test = doctest.DocTestParser().get_doctest(block, {}, "README: From Python", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False) == doctest.TestResults(failed=0, attempted=5)
