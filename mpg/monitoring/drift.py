"""Input drift: how far the served values of one input are from the training rows' values.

One rule for every input (and for predicted MPG against training MPG):
- bins: the training deciles for a continuous input, the training values themselves for Cylinders
  and Origin; plus a bin below the training minimum and one above the maximum (one bin for
  unseen categories), so extrapolation shows as drift;
- statistic: the population stability index, PSI = sum over bins of
  (served share - training share) * ln(served share / training share), shares floored at 1e-4;
- p_value: scipy's chi-square test of homogeneity on the same bin counts;
- drifted: PSI > 0.2 (the usual "significant shift") and p < 0.01. PSI alone is noise for a few
  dozen cars; the test alone flags shifts too small to matter once there are many;
- judged only from MIN_PREDICTIONS known values on: below that `drifted` is None (too few to say).
Unknown values (NaN) are left out of the comparison and counted.

Why scipy and not Evidently: the statistics are a few lines over scipy (already a dependency),
while Evidently 0.7 would add 45 packages to the product (a web server, plotly, nltk, statsmodels)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd
from pydantic import BaseModel
from scipy.stats import chi2_contingency

from mpg import config

PSI_THRESHOLD = 0.2
P_THRESHOLD = 0.01
CATEGORICAL = {config.CYLINDERS, config.ORIGIN}
# Below this, PSI is noise: cars drawn from the training data itself average a PSI above the 0.2 threshold at 50
# cars (a sample that small leaves decile bins empty, and each empty bin adds ~0.7), and under 3/4 of it at 100
# (tests/monitoring/test_report.py). A verdict from fewer would rest on the chi-square test alone.
MIN_PREDICTIONS = 100
_FLOOR = 1e-4


class Bin(BaseModel):
    label: str
    training: float  # share of the training values in this bin
    served: float  # share of the served (known) values


class Drift(BaseModel):
    statistic: float | None  # PSI; None when no served value is known
    p_value: float | None
    drifted: bool | None  # None: fewer than MIN_PREDICTIONS known values, too few to judge
    known: int  # served values compared
    unknown: int  # served values left out (unknown input)
    bins: list[Bin]

    @property
    def verdict(self) -> str:
        return "too few" if self.drifted is None else "DRIFTED" if self.drifted else "no drift"


def _binner(training: np.ndarray, categorical: bool, label) -> tuple[list[str], Callable[[np.ndarray], np.ndarray]]:
    """Bin labels, and a function giving each value's bin index."""
    if categorical:
        categories = np.unique(training)
        labels = [label(c) for c in categories] + ["other"]

        def index(values: np.ndarray) -> np.ndarray:
            found = np.searchsorted(categories, values).clip(max=len(categories) - 1)
            return np.where(categories[found] == values, found, len(categories))

        return labels, index
    low, high = training.min(), training.max()
    inner = np.unique(np.quantile(training, np.linspace(0.1, 0.9, 9)))
    inner = inner[(inner > low) & (inner < high)]
    edges = [low, *inner, high]
    labels = [f"< {label(low)}"]
    labels += [f"{label(a)}-{label(b)}" for a, b in itertools.pairwise(edges)]  # [a, b), the last [a, b]
    labels += [f"> {label(high)}"]

    def index(values: np.ndarray) -> np.ndarray:
        bins = np.searchsorted(inner, values, side="right") + 1
        return np.where(values < low, 0, np.where(values > high, len(labels) - 1, bins))

    return labels, index


def compare(training: pd.Series, served: pd.Series, *, categorical: bool = False, label=None) -> Drift:
    """Served values against training values (NaN left out) under the rule in the module docstring."""
    label = label or (lambda v: f"{v:.4g}")
    reference = training.dropna().to_numpy(dtype=np.float64)
    values = served.to_numpy(dtype=np.float64)
    known = values[~np.isnan(values)]
    unknown = len(values) - len(known)
    labels, index = _binner(reference, categorical, label)
    train_counts = np.bincount(index(reference), minlength=len(labels))
    served_counts = np.bincount(index(known), minlength=len(labels))
    train_share = train_counts / train_counts.sum()
    served_share = served_counts / max(served_counts.sum(), 1)
    bins = [Bin(label=b, training=t, served=s) for b, t, s in zip(labels, train_share, served_share, strict=True)]
    if not len(known):
        return Drift(statistic=None, p_value=None, drifted=None, known=0, unknown=unknown, bins=bins)
    p, q = np.maximum(served_share, _FLOOR), np.maximum(train_share, _FLOOR)
    psi = float(np.sum((p - q) * np.log(p / q)))
    table = np.array([train_counts, served_counts])
    table = table[:, table.sum(axis=0) > 0]  # a bin empty in both says nothing (and breaks the test)
    p_value = float(chi2_contingency(table).pvalue) if table.shape[1] > 1 else 1.0
    drifted = psi > PSI_THRESHOLD and p_value < P_THRESHOLD if len(known) >= MIN_PREDICTIONS else None
    return Drift(statistic=psi, p_value=p_value, drifted=drifted, known=len(known), unknown=unknown, bins=bins)


def input_drift(training: pd.DataFrame, served: pd.DataFrame) -> dict[str, Drift]:
    """Every input's drift, canonical names in `config.FEATURES` order."""
    labels = {config.ORIGIN: lambda code: config.ORIGINS.get(int(code), f"{code:g}")}
    return {name: compare(training[name], served[name], categorical=name in CATEGORICAL, label=labels.get(name))
            for name in config.FEATURES}  # fmt: skip
