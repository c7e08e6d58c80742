"""The servers bench/peers.py compares: our API as shipped, and MLflow, MLServer and BentoML serving the same
committed Pipeline (models/model.joblib) the way each one's documentation shows.

Each peer runs from its own virtual environment, bench/out/peers/<peer>/.venv (git-ignored), made by pip from the pins
below plus the libraries the pickled Pipeline needs, at the versions requirements.txt gives (the model loads only
under the scikit-learn it was saved with). A venv whose pins file matches is reused, so a second run installs
nothing. The peers import our transformer (mpg.modeling.features) from this checkout: MLflow through its
`code_paths`, the others through PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.api import api_command
from mpg import config
from tests.servers import free_port

PEERS_DIR = Path(__file__).resolve().parent / "out" / "peers"
MODEL_NEEDS = ("numpy", "scipy", "scikit-learn", "joblib", "threadpoolctl", "pandas")  # pinned as in requirements.txt
PINS = {
    # 3.18.0 needs mlflow-tracing==3.18.0, which PyPI does not have: 3.17.2 is the newest 3.x that installs.
    "MLflow": ("mlflow==3.17.2",),
    # uvloop 0.22 stops MLServer 1.7.1's inference workers at start (SeldonIO/MLServer#2286, still open).
    "MLServer": ("mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop==0.21.0"),
    "BentoML": ("bentoml==1.4.40",),
}
WORKERS = 2
# No usage reports from the peers: pip is the only thing this benchmark fetches.
QUIET_PEER = {"DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true", "BENTOML_DO_NOT_TRACK": "true"}

Columns = dict[str, list]  # cars by column, as bench.api.payload gives them (the FEATURES names)
Body = tuple[bytes, dict[str, str]]  # a request's body and its headers


@dataclass(frozen=True)
class Route:
    path: str
    encode: Callable[[Columns], Body]
    decode: Callable[[bytes], list[float]]  # the answer's MPG, one per car


@dataclass(frozen=True)
class Server:
    name: str
    workers: str  # its worker setting, as RESULTS.md states it
    routes: dict[str, Route]  # the first is the one the 1-car and 100-car figures use
    ready: str  # polled until it answers 200
    launch: Callable[[int], tuple[list[str], dict[str, str]]]  # port -> command, environment
    cwd: Path
    server_timing: tuple[str, ...] = ()  # routes that send a Server-Timing header (all of ours)


def _json(value) -> Body:
    return json.dumps(value).encode(), {"Content-Type": "application/json"}


def _rows(columns: Columns) -> list[list]:
    return [list(row) for row in zip(*(columns[name] for name in config.FEATURES), strict=True)]


def records(columns: Columns) -> Body:
    return _json([dict(zip(config.INPUT_NAMES, row, strict=True)) for row in _rows(columns)])


def dataframe_split(columns: Columns) -> Body:
    return _json({"dataframe_split": {"columns": config.FEATURES, "data": _rows(columns)}})


def csv(columns: Columns) -> Body:
    lines = [",".join(config.FEATURES), *(",".join(map(str, row)) for row in _rows(columns))]
    return ("\n".join(lines) + "\n").encode(), {"Content-Type": "text/csv"}


def tensors(columns: Columns, names: list[str] = config.INPUT_NAMES, **request) -> Body:
    """The Open Inference Protocol's JSON: one FP64 tensor of shape [n] per input."""
    inputs = [{"name": name, "shape": [len(columns[feature])], "datatype": "FP64", "data": columns[feature]}
              for name, feature in zip(names, config.FEATURES, strict=True)]  # fmt: skip
    return _json({**request, "inputs": inputs})


def binary_tensors(columns: Columns) -> Body:
    """The protocol's binary extension: a JSON header naming each input's byte count, then the FP64 values
    (little-endian), input after input; `Inference-Header-Content-Length` says where the header ends."""
    values = [np.asarray(columns[feature], dtype="<f8").tobytes() for feature in config.FEATURES]
    inputs = [{"name": name, "shape": [len(columns[feature])], "datatype": "FP64",
               "parameters": {"binary_data_size": len(raw)}}
              for name, feature, raw in zip(config.INPUT_NAMES, config.FEATURES, values, strict=True)]  # fmt: skip
    header = json.dumps({"inputs": inputs}).encode()
    headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))}
    return header + b"".join(values), headers


def _field(name: str) -> Callable[[bytes], list[float]]:
    return lambda raw: json.loads(raw)[name]


def _output(name: str | None) -> Callable[[bytes], list[float]]:
    """A v2 answer's output of that name (None: the only one), flat."""

    def decode(raw: bytes) -> list[float]:
        outputs = json.loads(raw)["outputs"]
        (output,) = [o for o in outputs if name is None or o["name"] == name]
        return np.ravel(output["data"]).tolist()

    return decode


OURS = {
    "POST /predict (columns)": Route("/predict", _json, _field("mpg_prediction")),
    "POST /predict (records)": Route("/predict", records, _field("mpg_prediction")),
    "POST /invocations (dataframe_split)": Route("/invocations", dataframe_split, _field("predictions")),
    "POST /invocations (text/csv)": Route("/invocations", csv, _field("predictions")),
    "POST /v2/models/mpg/infer (JSON tensors)": Route("/v2/models/mpg/infer", tensors, _output("mpg_prediction")),
    "POST /v2/models/mpg/infer (binary tensors)": Route(
        "/v2/models/mpg/infer", binary_tensors, _output("mpg_prediction")),
}  # fmt: skip


LOG_FILE = "predictions.sqlite3"  # our prediction log, in the run's folder: bench.peers empties it each round


def ours(name: str, workdir: Path, env: dict[str, str] | None = None) -> Server:
    """Our API as shipped (`bench.api.api_command`: gunicorn.conf.py, 2 gevent workers, metrics, access log and
    prediction log on), its log in `workdir`."""
    environment = {"DATABASE_URL": f"sqlite:///{workdir / LOG_FILE}", "WEB_CONCURRENCY": str(WORKERS),
                   **(env or {})}  # fmt: skip
    return Server(name, f"gunicorn, {WORKERS} gevent workers (gunicorn.conf.py)", OURS, "/health",
                  lambda port: (api_command(port), environment), config.PROJ_ROOT,
                  tuple(OURS))  # fmt: skip


def model_pins() -> list[str]:
    """The libraries the pickled Pipeline needs, at requirements.txt's versions."""
    lines = (config.PROJ_ROOT / "requirements.txt").read_text().splitlines()
    return [line for line in lines if line.split("==")[0] in MODEL_NEEDS]


def pins(peer: str) -> list[str]:
    """Everything the peer's venv is made from."""
    return [*PINS[peer], *model_pins()]


def venv(peer: str, directory: Path = PEERS_DIR) -> Path:
    """The peer's virtual environment, made (or remade) when its pins file does not match.

    Named .venv (bench/out/peers/<peer>/.venv), as the tests' guard against files written into the project skips
    every folder of that name: it walks the tree around each test, and three venvs hold some 40,000 files.
    """
    folder = directory / peer.lower()
    path = folder / ".venv"
    wanted = "\n".join([f"python {platform.python_version()}", *pins(peer)]) + "\n"
    stamp = path / "mpg-pins.txt"
    if stamp.exists() and stamp.read_text() == wanted:
        return path
    print(f"building {path} ({', '.join(pins(peer))})", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "pip.log"
    with log.open("w") as out:
        for command in ([sys.executable, "-m", "venv", "--clear", str(path)],
                        [str(path / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                         *pins(peer)]):  # fmt: skip
            if subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode:
                raise RuntimeError(f"{peer}: {' '.join(command[:4])} failed:\n{log.read_text()[-3000:]}")
    stamp.write_text(wanted)
    return path


def _environment(path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": f"{path / 'bin'}:{os.environ['PATH']}", "VIRTUAL_ENV": str(path), **QUIET_PEER, **extra}


def _run(path: Path, script: str, *args: str, env: dict[str, str]) -> None:
    """A script in the peer's venv; its output (warnings the tools print when saving) only when it fails."""
    done = subprocess.run([str(path / "bin" / "python"), "-c", script, *args], env={**os.environ, **env},
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{path.parent.name}: preparing the model failed:\n{done.stderr[-3000:]}")


MODEL = config.MODELS_DIR / config.MODEL_FILE
PYTHONPATH = str(config.PROJ_ROOT)  # where the pickle finds mpg.modeling.features

# mlflow.sklearn.save_model with a signature inferred from sample cars; our code goes in with `code_paths`.
# cloudpickle, not MLflow's default skops: skops refuses our transformer and function (and numpy.dtype) unless
# each is listed as trusted, and the committed model is a pickle already.
SAVE_MLFLOW = """
import json, sys, joblib, pandas as pd, mlflow.sklearn
from mlflow.models import infer_signature
model, cars = joblib.load(sys.argv[1]), pd.DataFrame(json.loads(sys.argv[3]))
mlflow.sklearn.save_model(model, sys.argv[2], code_paths=[sys.argv[4]], serialization_format="cloudpickle",
                          signature=infer_signature(cars, model.predict(cars)))
"""
# BentoML's model store: the model file in a model named "mpg", which bench/peer_bentoml.py loads.
SAVE_BENTOML = """
import shutil, sys, bentoml
with bentoml.models.create("mpg") as model:
    shutil.copy(sys.argv[1], model.path_of("model.joblib"))
"""


def mlflow(workdir: Path, sample: Columns) -> Server:
    path = venv("MLflow")
    model = workdir / "mlflow-model"
    _run(path, SAVE_MLFLOW, str(MODEL), str(model), json.dumps(sample), str(config.PACKAGE_DIR),
         env=_environment(path, PYTHONPATH=PYTHONPATH))  # fmt: skip

    def launch(port: int) -> tuple[list[str], dict[str, str]]:
        return [str(path / "bin" / "mlflow"), "models", "serve", "-m", str(model), "--env-manager", "local",
                "--workers", str(WORKERS), "--host", "127.0.0.1", "--port", str(port)], _environment(path)  # fmt: skip

    route = Route("/invocations", dataframe_split, _field("predictions"))
    return Server("MLflow", f"`--workers {WORKERS}` (uvicorn worker processes)",
                  {"POST /invocations (dataframe_split)": route}, "/ping", launch, workdir)  # fmt: skip


def mlserver(workdir: Path) -> Server:
    """The scikit-learn runtime on a model-settings.json; server settings from MLSERVER_* variables (its
    documented alternative to settings.json), so each start takes fresh ports."""
    path = venv("MLServer")
    repository = workdir / "mlserver"
    (repository / "mpg").mkdir(parents=True, exist_ok=True)
    settings = {"name": "mpg", "implementation": "mlserver_sklearn.SKLearnModel", "parameters": {"uri": str(MODEL)}}
    (repository / "mpg" / "model-settings.json").write_text(json.dumps(settings, indent=2))

    def launch(port: int) -> tuple[list[str], dict[str, str]]:
        env = _environment(path, PYTHONPATH=PYTHONPATH, MLSERVER_HOST="127.0.0.1", MLSERVER_HTTP_PORT=str(port),
                           MLSERVER_GRPC_PORT=str(free_port()), MLSERVER_METRICS_PORT=str(free_port()),
                           MLSERVER_PARALLEL_WORKERS=str(WORKERS), MLSERVER_DEBUG="false")  # fmt: skip
        return [str(path / "bin" / "mlserver"), "start", str(repository)], env

    # The pandas content type makes the inputs a DataFrame with these column names, as the Pipeline needs.
    route = Route(
        "/v2/models/mpg/infer",
        lambda columns: tensors(columns, config.FEATURES, parameters={"content_type": "pd"}),
        _output(None),
    )
    return Server("MLServer", f"`parallel_workers: {WORKERS}` (inference processes behind one HTTP process)",
                  {"POST /v2/models/mpg/infer (pandas)": route}, "/v2/models/mpg/ready", launch, workdir)  # fmt: skip


def bentoml(workdir: Path) -> Server:
    path = venv("BentoML")
    env = _environment(path, PYTHONPATH=PYTHONPATH, BENTOML_HOME=str(workdir / "bentoml"))
    _run(path, SAVE_BENTOML, str(MODEL), env=env)

    def launch(port: int) -> tuple[list[str], dict[str, str]]:
        return [str(path / "bin" / "bentoml"), "serve", "bench.peer_bentoml:MPG", "--host", "127.0.0.1",
                "--port", str(port)], env  # fmt: skip

    route = Route("/predict", lambda columns: _json({"cars": columns}), json.loads)
    return Server("BentoML", f"`@bentoml.service(workers={WORKERS})` (server processes)",
                  {"POST /predict (DataFrame by columns)": route}, "/readyz", launch, workdir)  # fmt: skip
