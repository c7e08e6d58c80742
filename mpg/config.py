"""Paths, column names, seeds and bounds. Constants only: importing this does no I/O."""

from __future__ import annotations

from pathlib import Path

PROJ_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(__file__).resolve().parent
DATA_PATH = PACKAGE_DIR / "data" / "auto-mpg.csv"
MODELS_DIR = PROJ_ROOT / "models"
MODEL_FILE = "model.joblib"
ONNX_FILE = "model.onnx"
METADATA_FILE = "model.json"

SEED = 42
TEST_SIZE = 0.2
CV_FOLDS = 10

TARGET = "MPG"
NAME = "Car Name"
CYLINDERS = "Cylinders"
DISPLACEMENT = "Displacement"
HORSEPOWER = "Horsepower"
WEIGHT = "Weight"
ACCELERATION = "Acceleration"
MODEL_YEAR = "Model Year"
ORIGIN = "Origin"

NUMERIC_FEATURES = [CYLINDERS, DISPLACEMENT, HORSEPOWER, WEIGHT, ACCELERATION, MODEL_YEAR]
FEATURES = [*NUMERIC_FEATURES, ORIGIN]
COLUMNS = [TARGET, *FEATURES, NAME]

# UCI codes. The tutorial labels these India/USA/Germany; that is wrong.
ORIGINS = {1: "USA", 2: "Europe", 3: "Japan"}
ORIGIN_CODES = {name: code for code, name in ORIGINS.items()}

UNITS = {
    TARGET: "miles per US gallon",
    CYLINDERS: "count",
    DISPLACEMENT: "cubic inches",
    HORSEPOWER: "hp",
    WEIGHT: "lb",
    ACCELERATION: "s, 0-60 mph",
    MODEL_YEAR: "19xx",
    ORIGIN: "1 = USA, 2 = Europe, 3 = Japan",
}

# Plausible bounds for a passenger car (inclusive): outside, refused; inside but outside the training range, a warning.
BOUNDS = {
    TARGET: (1.0, 150.0),
    CYLINDERS: (1, 16),
    DISPLACEMENT: (30.0, 1000.0),
    HORSEPOWER: (20.0, 1000.0),
    WEIGHT: (800.0, 10000.0),
    ACCELERATION: (2.0, 40.0),
    MODEL_YEAR: (60, 99),
}
INTEGER_FEATURES = {CYLINDERS, MODEL_YEAR}

# The one map between the key styles: snake_case names an input in a URL, a v2 tensor, a CLI option and the log.
SNAKE = {name: name.lower().replace(" ", "_") for name in COLUMNS}  # Model Year -> model_year
CANONICAL = {snake: name for name, snake in SNAKE.items()}
INPUT_NAMES = [SNAKE[name] for name in FEATURES]  # the seven inputs in snake_case, in feature order

# The tutorial's published figures (same data, same split), for side-by-side reports.
TUTORIAL_CV_RMSE = {
    "linear_regression": 3.076,
    "decision_tree": 3.31,
    "random_forest": 2.559,
    "svr_linear": 3.087,
    "tutorial_forest_grid": 2.652,
}
TUTORIAL_TEST_RMSE = 3.018
TUTORIAL_TRAIN_RMSE_LINEAR = 2.959
TF_DNN_TEST_MAE = 1.73
