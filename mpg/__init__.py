"""mpg: predict a car's fuel efficiency (UCI Auto MPG) with one fitted scikit-learn Pipeline."""

__version__ = "1.0.0"
