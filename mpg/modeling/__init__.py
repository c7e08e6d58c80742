"""Training: the derived features, the Pipeline, the candidates, selection, intervals, importances, evaluation."""
