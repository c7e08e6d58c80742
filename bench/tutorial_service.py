"""The tutorial's Flask service, rebuilt faithfully as the benchmark's baseline. Do not use it.

Its defects are kept on purpose: the pickle is loaded on every request, the
preprocessing is fitted again on the request rows (so a one-row request fails
with 9 columns instead of 11, and a car's prediction depends on its batch), and
origin is labelled India/USA/Germany.
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
from flask import Flask, jsonify, request
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MODEL_PATH = os.environ.get("TUTORIAL_MODEL", "model_files/model.bin")
acc_ix, hpower_ix, cyl_ix = 4, 2, 0


def preprocess_origin_cols(df):
    df["Origin"] = df["Origin"].map({1: "India", 2: "USA", 3: "Germany"})
    return df


class CustomAttrAdder(BaseEstimator, TransformerMixin):
    def __init__(self, acc_on_power=True):
        self.acc_on_power = acc_on_power

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        acc_on_cyl = X[:, acc_ix] / X[:, cyl_ix]
        if self.acc_on_power:
            acc_on_power = X[:, acc_ix] / X[:, hpower_ix]
            return np.c_[X, acc_on_power, acc_on_cyl]
        return np.c_[X, acc_on_cyl]


def num_pipeline_transformer(data):
    numerics = ["float64", "int64"]
    num_attrs = data.select_dtypes(include=numerics)
    num_pipeline = Pipeline(
        [
            ("imputer", SimpleImputer(strategy="median")),
            ("attrs_adder", CustomAttrAdder()),
            ("std_scaler", StandardScaler()),
        ]
    )
    return num_attrs, num_pipeline


def pipeline_transformer(data):
    cat_attrs = ["Origin"]
    num_attrs, num_pipeline = num_pipeline_transformer(data)
    full_pipeline = ColumnTransformer([("num", num_pipeline, list(num_attrs)), ("cat", OneHotEncoder(), cat_attrs)])
    return full_pipeline.fit_transform(data)


def predict_mpg(config, model):
    df = pd.DataFrame(config) if isinstance(config, dict) else config
    preproc_df = preprocess_origin_cols(df)
    prepared_df = pipeline_transformer(preproc_df)
    return model.predict(prepared_df)


app = Flask("app")


@app.route("/test", methods=["GET"])
def test():
    return "Pinging Model Application!!"


@app.route("/predict", methods=["POST"])
def predict():
    vehicle = request.get_json()
    with open(MODEL_PATH, "rb") as f_in:
        model = pickle.load(f_in)
    predictions = predict_mpg(vehicle, model)
    return jsonify({"mpg_prediction": list(predictions)})


def train_tutorial_model(path: str) -> None:
    """The tutorial's final model: its grid search's best forest (max_features 8, 30 trees), pickled."""
    from sklearn.ensemble import RandomForestRegressor

    from mpg import config
    from mpg.data import load_auto_mpg, split_train_test

    train, _ = split_train_test(load_auto_mpg())
    data = train[config.FEATURES].copy()
    data[["Cylinders", "Model Year"]] = data[["Cylinders", "Model Year"]].astype("int64")
    data["Origin"] = data["Origin"].astype("int64")
    prepared = pipeline_transformer(preprocess_origin_cols(data))
    model = RandomForestRegressor(n_estimators=30, max_features=8, random_state=42)
    model.fit(prepared, train[config.TARGET])
    with open(path, "wb") as handle:
        pickle.dump(model, handle)
