"""Command line: `python -m mpg train | evaluate | predict`. User errors: one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from mpg import __version__, config, monitor
from mpg.card import LeaderboardRow
from mpg.evaluate import StaleDataError, held_out_metrics
from mpg.persistence import ModelLoadError, load_model
from mpg.predict import predict_mpg, prediction_interval
from mpg.schema import InputError
from mpg.train import train_model

USER_ERROR = 2


class UsageError(Exception):
    """A user mistake reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line too
        raise UsageError(message)


def _options(parser: argparse.ArgumentParser) -> None:
    for name in config.FEATURES:
        flag = "--" + config.ALIASES_BY_NAME[name].replace("_", "-")
        parser.add_argument(flag, dest=name, metavar="VALUE", help=f"{name} ({config.UNITS[name]})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m mpg", description="Predict a car's fuel efficiency (Auto MPG).")
    parser.add_argument("--version", action="version", version=f"mpg {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="select, fit and save the model")
    train.add_argument("--data", type=Path, default=config.DATA_PATH, help="UCI-format file or CSV")
    train.add_argument("--out", type=Path, default=config.MODELS_DIR, help="directory for model files")

    evaluate = commands.add_parser("evaluate", help="the model's metrics on its held-out rows")
    evaluate.add_argument("--model", type=Path, default=config.MODELS_DIR)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")

    predict = commands.add_parser("predict", help="predict MPG for a file of cars, or one car given as options")
    predict.add_argument("--model", type=Path, default=config.MODELS_DIR)
    predict.add_argument("--input", type=Path, help="CSV or JSON records with the canonical input columns")
    predict.add_argument("--output", type=Path, help="CSV to write (default: standard output)")
    _options(predict)
    monitor.add_parser(commands)
    return parser


def _train(args) -> None:
    started = time.perf_counter()
    card = train_model(args.data, args.out, log=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_leaderboard(card.leaderboard))
    print(f"\nsaved {args.out / config.MODEL_FILE} ({card.model}) in {time.perf_counter() - started:.1f} s")


def format_leaderboard(rows: list[LeaderboardRow]) -> str:
    lines = [f"{'model':<22} {'CV RMSE':>8} {'± std':>6} {'MAE':>6} {'R²':>6} {'fit s':>6} {'tutorial':>8}"]
    for r in rows:
        tutorial = f"{r.tutorial_cv_rmse:.3f}" if r.tutorial_cv_rmse else ""
        lines.append(
            f"{r.name:<22} {r.cv_rmse_mean:>8.3f} {r.cv_rmse_std:>6.3f} {r.cv_mae:>6.3f} "
            f"{r.cv_r2:>6.3f} {r.fit_time_s:>6.3f} {tutorial:>8}"
        )
    return "\n".join(lines)


def _evaluate(args) -> None:
    model = load_model(args.model)
    metrics = held_out_metrics(model)
    card = model.card
    if args.json:
        leaderboard = [row.model_dump(mode="json") for row in card.leaderboard]
        print(json.dumps({**metrics, "model": card.model, "leaderboard": leaderboard}))
        return
    print(f"model {card.model} ({model.version}), {card.test_row_count} test rows")
    for key, value in metrics.items():
        print(f"{key:<10} {value:.3f}")
    print(f"tutorial test RMSE {config.TUTORIAL_TEST_RMSE:.3f}")


def _read_vehicles(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".json":
            return pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        raise UsageError(f"{path}: cannot be read: {reason}") from None


def _predict(args) -> None:
    given = {name: getattr(args, name) for name in config.FEATURES if getattr(args, name) is not None}
    if args.input and given:
        raise UsageError("give either --input FILE or the car's options, not both")
    if args.input:
        frame = _read_vehicles(args.input)
        source = str(args.input)
    elif given:
        frame, source = pd.DataFrame([given]), "options"
    else:
        raise UsageError("give --input FILE, or the car as options (see python -m mpg predict --help)")
    model = load_model(args.model)
    try:
        predictions = predict_mpg(model, frame)
    except InputError as exc:
        raise InputError(exc.problems, source=source, row_label=lambda r: f"row {r + 1}") from None
    lower, upper = prediction_interval(model, predictions)
    out = frame.assign(mpg_prediction=predictions.round(3), mpg_lower=lower.round(3), mpg_upper=upper.round(3))
    if args.output:
        out.to_csv(args.output, index=False)
        print(f"wrote {len(out)} predictions to {args.output}", file=sys.stderr)
    else:
        out.to_csv(sys.stdout, index=False)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        {"train": _train, "evaluate": _evaluate, "predict": _predict, "monitor": monitor.run}[args.command](args)
    except (UsageError, InputError, ModelLoadError, StaleDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0
