"""The committed Pipeline as a BentoML service, the way BentoML's documentation writes one (bench/peers.py serves it
with `bentoml serve bench.peer_bentoml:MPG` from BentoML's own venv; our API never imports this).

The model comes from BentoML's model store ("mpg", put there by bench/peer_servers.py). The Pipeline selects its
inputs by column name, so the API takes a DataFrame, sent as JSON by column (`{"cars": {"Cylinders": [...], ...}}`).
"""

from __future__ import annotations

from typing import Annotated

import bentoml
import joblib
import numpy as np
import pandas as pd
from bentoml.validators import DataframeSchema

from mpg import config


@bentoml.service(workers=2)
class MPG:
    bento_model = bentoml.models.BentoModel("mpg:latest")

    def __init__(self) -> None:
        self.model = joblib.load(self.bento_model.path_of("model.joblib"))

    @bentoml.api
    def predict(
        self, cars: Annotated[pd.DataFrame, DataframeSchema(orient="columns", columns=config.FEATURES)]
    ) -> np.ndarray:
        return self.model.predict(cars)
