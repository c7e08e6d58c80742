"""Command line: `mpg train | evaluate | predict | monitor` (or `python -m mpg ...`).

Exit status: 0 done; 1 some rows refused (the output still written); 2 a user error, one line per problem on stderr."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from mpg import __version__, config
from mpg.artifact.store import ModelLoadError
from mpg.data import StaleDataError
from mpg.problems import InputError

# Each command imports what it needs when it runs: `predict` never loads scikit-learn or SciPy.

USER_ERROR = 2  # the input as a whole is unusable: nothing predicted
SOME_REFUSED = 1  # a file with some bad rows: the output is written, those rows carry their problem


class UsageError(Exception):
    """A user mistake reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line too
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mpg", description="Predict a car's fuel efficiency (Auto MPG).")
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
    predict.add_argument("--input", type=Path, help="CSV, or JSON as the API takes it (a car, a list, columns)")
    predict.add_argument("--output", type=Path, help="CSV to write (default: standard output)")
    for name in config.FEATURES:
        flag = "--" + config.SNAKE[name].replace("_", "-")
        predict.add_argument(flag, dest=name, metavar="VALUE", help=f"{name} ({config.UNITS[name]})")
    monitor = commands.add_parser("monitor", help="traffic and input drift from the prediction log")
    monitor.add_argument("--database", metavar="URL",
                         help="SQLAlchemy URL (default: DATABASE_URL, else the SQLite log)")  # fmt: skip
    monitor.add_argument("--since", type=_since, metavar="ISO-TIME", help="only predictions from then on (UTC)")
    monitor.add_argument("--source", choices=("app", "api"),
                         help="only the app's visitors or only the API's callers (default: both)")  # fmt: skip
    monitor.add_argument("--json", action="store_true", help="print one JSON object")
    monitor.set_defaults(monitor_parser=monitor)
    return parser


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r} (e.g. 2025-01-31 or 2025-01-31T12:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # a time without zone is UTC


def _train(args) -> None:
    from mpg.modeling.train import train_model

    started = time.perf_counter()
    card = train_model(args.data, args.out, log=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_leaderboard(card.leaderboard))
    print(f"\nsaved {args.out / config.MODEL_FILE} ({card.model}) in {time.perf_counter() - started:.1f} s")


def format_leaderboard(rows) -> str:
    """The leaderboard (mpg.artifact.card.LeaderboardRow, chosen first) as a text table."""
    width = max(len("model"), *(len(r.name) for r in rows))
    head = f"{'CV RMSE':>8} {'± std':>6} {'MAE':>6} {'R²':>6} {'equal':>5} {'ms/10k':>7} {'tutorial':>8}"
    lines = [f"{'model':<{width}} {head}"]
    for r in rows:
        tutorial = f"{r.tutorial_cv_rmse:.3f}" if r.tutorial_cv_rmse else ""
        lines.append(f"{r.name:<{width}} {r.cv_rmse_mean:>8.3f} {r.cv_rmse_std:>6.3f} {r.cv_mae:>6.3f} {r.cv_r2:>6.3f} "
                     f"{'yes' if r.equal else 'no':>5} {r.serving_ms_10k:>7.1f} {tutorial:>8}")  # fmt: skip
    return "\n".join(lines)


def _evaluate(args) -> None:
    from mpg.artifact.store import load_model
    from mpg.modeling.evaluate import held_out_metrics

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


def _predict(args) -> int:
    import pandas as pd

    from mpg.artifact.store import load_model
    from mpg.contract import check_records
    from mpg.files import CarFile, predict_car_file, read_cars
    from mpg.text import from_text

    given = {name: getattr(args, name) for name in config.FEATURES if getattr(args, name) is not None}
    if args.input and given:
        raise UsageError("give either --input FILE or the car's options, not both")
    if args.input:
        try:
            data = args.input.read_bytes()
        except OSError as exc:
            raise UsageError(f"{args.input}: cannot be read: {exc.strerror or exc}") from None
        cars = read_cars(data, str(args.input))  # InputError (exit 2) when the file as a whole is unusable
    elif given:
        # Options are text, like CSV cells: the same reading, then the same contract.
        frame = pd.DataFrame([given])
        cars = CarFile(frame, from_text(frame.columns, frame.itertuples(index=False, name=None)))
    else:
        raise UsageError("give --input FILE, or the car as options (see mpg predict --help)")
    result = predict_car_file(load_model(args.model), cars)
    if not args.input and result.refused:
        problems = [replace(p, row=None) for p in check_records(cars.records).problems]  # one car: no row
        raise InputError(problems, source="options")
    if args.output:
        args.output.write_bytes(result.csv_bytes())
    else:
        sys.stdout.write(result.csv_bytes().decode("utf-8"))
    print(result.summary + (f" to {args.output}" if args.output else ""), file=sys.stderr)
    return SOME_REFUSED if result.refused else 0


def _monitor(args) -> None:
    from mpg.monitoring import report as monitor

    monitor.run(args)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        commands = {"train": _train, "evaluate": _evaluate, "predict": _predict, "monitor": _monitor}
        status = commands[args.command](args)
    except InputError as exc:  # one line per problem (problems.LIMIT at most), so each can be read and grepped
        for line in exc.lines():
            print(f"error: {line}", file=sys.stderr)
        return USER_ERROR
    except (UsageError, ModelLoadError, StaleDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return status or 0
