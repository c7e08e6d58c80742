"""Reading Auto MPG data (the shipped copy, a UCI-format file or a CSV) and the train/test split."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pandas as pd

from mpg import config
from mpg.artifact.card import ModelCard
from mpg.contract import canonical_name, check_records
from mpg.problems import InputError, Problem
from mpg.text import csv_line_labels, from_text


class StaleDataError(RuntimeError):
    """The data a model was trained on has changed, so its held-out rows are gone."""


class DataError(InputError):
    """A data file that cannot be used; the message names the file, column and first bad line."""


def _read_raw(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """Read a file as text cells; returns the frame and each row's line in the file (blank lines skipped)."""
    text = path.read_text(encoding="utf-8")
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise DataError([Problem(None, None, "is empty")], source=str(path))
    if "," in first:
        # index_col=False: a row ending in a comma must not make its first cell the index (shifting the rest)
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False)
        return frame, csv_line_labels(text, len(frame))
    # UCI format: whitespace-separated numbers, then a tab and the quoted car name.
    frame = pd.read_csv(io.StringIO(text), sep=r"\s+", names=config.COLUMNS, dtype=str, keep_default_na=False)
    frame = frame.replace("?", "")
    lines = [f"line {n}" for n, line in enumerate(text.splitlines(), start=1) if line.strip()]  # pandas skips blanks
    return frame, lines if len(lines) == len(frame) else [f"data row {i + 1}" for i in range(len(frame))]


def load_auto_mpg(path: str | Path = config.DATA_PATH) -> pd.DataFrame:
    """Load and validate Auto MPG data (UCI format, or CSV): canonical columns, Origin as 1/2/3, NaN for missing.
    All or nothing: DataError names the file, the column and the bad lines."""
    path = Path(path)
    source = str(path)
    try:
        raw, labels = _read_raw(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        raise DataError([Problem(None, None, f"cannot be read: {reason}")], source=source) from None
    if raw.empty:
        raise DataError([Problem(None, None, "has no rows")], source=source)
    names = {column: canonical_name(column) for column in raw.columns}
    required = [config.TARGET, *config.FEATURES]
    missing = [Problem(None, name, "is missing", missing=True) for name in required if name not in names.values()]
    if missing:
        raise DataError(missing, source=source)
    records = from_text(raw.columns, raw.itertuples(index=False, name=None))
    checked = check_records(records, labelled=True, extra="ignore")
    if checked.problems:
        raise DataError(checked.problems, source=source, row_label=labels.__getitem__)
    frame = pd.DataFrame(checked.X, columns=[*config.FEATURES, config.TARGET])
    name_column = next((column for column, name in names.items() if name == config.NAME), None)
    if name_column is not None:
        frame[config.NAME] = raw[name_column].astype("string").str.strip()
    return frame[[c for c in config.COLUMNS if c in frame]]


def labelled_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The rows with a known MPG, and how many were left out for lacking one."""
    keep = frame[config.TARGET].notna()
    return frame[keep].reset_index(drop=True), int((~keep).sum())


def _strata(frame: pd.DataFrame) -> pd.Series:
    # StratifiedShuffleSplit needs two rows per class: rare cylinder counts join the commonest.
    cylinders = frame[config.CYLINDERS].fillna(frame[config.CYLINDERS].median())
    counts = cylinders.value_counts()
    return cylinders.where(cylinders.map(counts) >= 2, counts.idxmax())


def split_train_test(frame: pd.DataFrame, test_size: float = config.TEST_SIZE,
                     seed: int = config.SEED) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The tutorial's split: StratifiedShuffleSplit on Cylinders, 20% test, random_state 42."""
    from sklearn.model_selection import StratifiedShuffleSplit  # here: loading data needs no scikit-learn

    splitter = StratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train_index, test_index = next(splitter.split(frame, _strata(frame)))
    return frame.iloc[train_index], frame.iloc[test_index]


def model_rows(card: ModelCard) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model's training and test rows, re-read from its data file; StaleDataError if the file changed since."""
    labelled, _ = labelled_rows(load_auto_mpg(card.data_file))
    if frame_hash(labelled) != card.data.sha256:
        raise StaleDataError(f"{card.data_file}: the data changed since the model was trained; retrain: mpg train")
    test = labelled.iloc[card.data.test_rows]
    return labelled.drop(index=test.index), test


def frame_hash(frame: pd.DataFrame) -> str:
    """sha256 of a frame's values, independent of how it was read."""
    hashed = pd.util.hash_pandas_object(frame, index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()
