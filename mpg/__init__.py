"""mpg: predict a car's fuel efficiency (UCI Auto MPG) with one fitted scikit-learn Pipeline, and see why.

The public API: the committed model, one car as the input contract declares it, and the prediction every
surface (the API, the command line, the app) makes, with its 90% interval.

>>> from mpg import Car, load_model, predict
>>> model = load_model()
>>> corolla = Car(cylinders=4, displacement=108, horsepower=75, weight=2350, acceleration=16.8,
...               model_year=1981, origin="Japan")
>>> result = predict(model, [corolla])
>>> print(f"{result.mpg[0]:.1f} MPG, 90% interval {result.lower[0]:.1f}-{result.upper[0]:.1f}")
32.7 MPG, 90% interval 27.2-38.3

Bad input raises `InputError`, naming every car and field at fault (its message joins these lines with "; "):

>>> from mpg import InputError
>>> try:
...     predict(model, {"cylinders": 4, "displacement": 108, "horsepower": 75, "weight": -1, "acceleration": 16.8,
...                     "model_year": 81, "origin": "Mars"})
... except InputError as error:
...     for line in error.lines():
...         print(line)
row 0, Weight: must be between 800 and 10000 (lb), got -1
row 0, Origin: must be 1, 2, 3, USA, Europe or Japan, got 'Mars'
"""

import importlib

__version__ = "1.0.0"

# Where each public name lives. Imported when first used (PEP 562), so `from mpg import config` stays a
# constants-only import and a process loads only the parts it runs.
_PUBLIC = {
    "Car": "mpg.contract",
    "InputError": "mpg.problems",
    "Predictions": "mpg.prediction",
    "load_model": "mpg.artifact.store",
    "predict": "mpg.prediction",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'mpg' has no attribute {name!r}")
