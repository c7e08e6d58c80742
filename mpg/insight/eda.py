"""Exploratory tables: missing values, proportions per split, correlations, year averages."""

from __future__ import annotations

import pandas as pd

from mpg import config
from mpg.data import split_train_test
from mpg.modeling.features import RatioFeatures


def with_origin_names(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with Origin as USA/Europe/Japan, for people to read."""
    return frame.assign(**{config.ORIGIN: frame[config.ORIGIN].map(config.ORIGINS)})


def missing_values(frame: pd.DataFrame) -> pd.DataFrame:
    counts = frame.isna().sum()
    return pd.DataFrame({"missing": counts, "share": counts / len(frame)})


def split_proportions(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Share of each value of `column` in the whole data and in the stratified train and test sets."""
    train, test = split_train_test(frame)
    rows = [
        {"set": name, column: value, "share": share}
        for name, part in {"all": frame, "train": train, "test": test}.items()
        for value, share in part[column].value_counts(normalize=True).sort_index().items()
    ]
    out = pd.DataFrame(rows)
    return with_origin_names(out) if column == config.ORIGIN else out


def correlations_with_mpg(frame: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation of every numeric variable (the tutorial's two ratios included) with MPG, strongest first."""
    numeric = frame[config.NUMERIC_FEATURES]
    derived = RatioFeatures().set_output(transform="pandas").fit(numeric).transform(numeric)
    data = pd.concat([frame, derived.iloc[:, len(config.NUMERIC_FEATURES) :]], axis=1)
    corr = data.corr(numeric_only=True)[config.TARGET].drop(config.TARGET)
    out = corr.rename("correlation").rename_axis("variable").reset_index()
    return out.reindex(out["correlation"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def mpg_by_year(frame: pd.DataFrame) -> dict[int, float]:
    """The data set's average MPG for each model year."""
    return frame.groupby(config.MODEL_YEAR)[config.TARGET].mean().round(2).to_dict()
