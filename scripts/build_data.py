"""Build mpg/data/auto-mpg.csv from the vega-datasets `cars` table (a dev tool, not a runtime step).

The `cars` table is the 406-row "auto-mpg.data-original". Dropping its 8 rows
without MPG leaves the 398 UCI rows in order; its Year column labels the 29 cars
of model year 1981 (0-based rows 338-366 of the 398) as 1982, which we correct.
Its names also carry two text-replacement slips, corrected here: "accord" became
"Accelerationord" (4 Hondas), and row 347's "datsun 210 mpg" lost its " mpg".
tests/test_data.py checks the result against the UCI file value for value.
"""

from __future__ import annotations

import pandas as pd
from vega_datasets import local_data

from mpg import config


def build() -> pd.DataFrame:
    cars = local_data.cars().dropna(subset=["Miles_per_Gallon"]).reset_index(drop=True)
    assert len(cars) == 398, len(cars)
    year = cars["Year"].dt.year - 1900
    assert (year.iloc[338:367] == 82).all()
    year.iloc[338:367] = 81
    out = cars.rename(
        columns={
            "Miles_per_Gallon": config.TARGET,
            "Weight_in_lbs": config.WEIGHT,
            "Name": config.NAME,
        }
    )
    out[config.MODEL_YEAR] = year
    out[config.NAME] = out[config.NAME].str.replace("Accelerationord", "accord", regex=False)
    assert out.loc[347, config.NAME] == "datsun 210"
    out.loc[347, config.NAME] = "datsun 210 mpg"
    out[config.ORIGIN] = out["Origin"].map(config.ORIGIN_CODES)
    out = out[config.COLUMNS]
    out.to_csv(config.DATA_PATH, index=False)
    return out


if __name__ == "__main__":
    print(build().shape, "->", config.DATA_PATH)
