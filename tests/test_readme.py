"""The README's commands, run as printed in a fresh clone, with the project installed in .venv as `make` does it;
and its app figures, as the benchmark wrote them."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mpg import config
from tests.servers import free_port, running

# What the test does with each command of the README's ```sh blocks, by how the command begins. A command that
# begins with none of these fails the test: every new command is either run here or left out with a reason.
SERVER = ".venv/bin/gunicorn api.wsgi:app"  # started as the README starts it, with PORT set to a free port
RUN = (".venv/bin/mpg ", "head ", "curl ", "printf ")
LEFT_OUT = {
    "make run": "the app; tests/app start it as make run does",
    "make test": "the test suite itself",
    "heroku ": "needs the Heroku CLI and an account",
    "git push https://git.heroku.com/": "deploys to Heroku",
    ".venv/bin/mpg train": "a full training run; tests/modeling/test_train_data.py runs train",
}
# Programs that only .venv holds: a command or code span naming one bare fails on a fresh machine's PATH.
VENV_ONLY = ("python", "python3", "mpg", "gunicorn", "streamlit", "honcho", "pytest", "ruff")


def sh_commands(readme: str) -> list[str]:
    """The commands of every ```sh block, in order: a command runs on over lines while a quote is open or a line
    ends in a backslash or a pipe; comment lines are left out."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", readme, flags=re.M | re.S):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending += line + "\n"
            try:
                shlex.split(pending, comments=True)
            except ValueError:  # a quote still open
                continue
            if not re.search(r"(\\|\|)\s*(#.*)?$", line):
                commands.append(pending.strip())
                pending = ""
        assert not pending, f"a command of the README runs off its block: {pending!r}"
    return commands


def kind(command: str) -> str:
    for start, reason in LEFT_OUT.items():
        if command.startswith(start):
            return f"left out: {reason}"
    if command.split("#")[0].strip() == SERVER:
        return "server"
    if command.startswith(RUN):
        return "run"
    raise AssertionError(f"README command neither run by this test nor left out with a reason: {command!r}")


def test_every_readme_command_is_run_or_left_out_with_a_reason():
    commands = sh_commands((config.PROJ_ROOT / "README.md").read_text())
    kinds = [kind(command) for command in commands]
    assert kinds.count("server") == 1
    assert kinds.count("run") >= 8


def test_no_readme_command_names_a_program_only_venv_has():
    """On a fresh machine after `make`, `python -m mpg` has no pandas and `gunicorn` is not on PATH."""
    readme = (config.PROJ_ROOT / "README.md").read_text()
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", readme, flags=re.M | re.S))
    bare = [text for text in spans + sh_commands(readme) if text.split()[0] in VENV_ONLY and " " in text]
    assert bare == []


def wait_for_the_log(url: str, seconds: float = 15.0) -> None:
    """Until the API's log writer (it flushes every second) has created the SQLite file at `url`."""
    import time

    path = Path(url.removeprefix("sqlite:///"))
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.slow
def test_readme_commands_run_as_printed_in_a_fresh_clone(tmp_path):
    venv = Path(sys.prefix)
    assert (venv / "bin" / "mpg").exists(), f"{venv}/bin/mpg is missing: run make, which installs the project there"
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl not found: apt-get install -y curl")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(config.PROJ_ROOT), str(clone)], check=True, timeout=120)
    # What is being edited too: the working tree's uncommitted changes to tracked files.
    diff = subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=config.PROJ_ROOT, capture_output=True, check=True)
    if diff.stdout:
        subprocess.run(["git", "apply", "-"], cwd=clone, input=diff.stdout, check=True)
    (clone / ".venv").symlink_to(venv)  # the environment `make` made; nothing is installed here
    # curl's own config file: an HTTP error answer (>= 400) is a failing exit, 22, as the README's commands stand.
    (tmp_path / ".curlrc").write_text("fail-with-body\n")
    port = free_port()
    # PYTHONPATH: the editable install points .venv/bin/mpg at this checkout; the clone's own code must run
    env = {"PORT": str(port), "CURL_HOME": str(tmp_path), "PYTHONPATH": str(clone)}

    def run(command: str) -> subprocess.CompletedProcess:
        command = command.replace("localhost:8000", f"localhost:{port}")
        return subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=clone, env={**os.environ, **env},
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    commands = sh_commands((clone / "README.md").read_text())
    server = next(command for command in commands if kind(command) == "server")
    with running(["bash", "-c", server], f"http://127.0.0.1:{port}/health", tmp_path / "api.log", env=env, cwd=clone):
        assert run(f"curl -s localhost:{port}/no-such-route").returncode == 22  # the config file is read
        ran = []
        for command in (command for command in commands if kind(command) == "run"):
            if command.startswith(".venv/bin/mpg monitor"):
                wait_for_the_log(os.environ["DATABASE_URL"])  # the API writes its log off the request path
            result = run(command)
            assert result.returncode == 0, f"{command}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
            assert "Traceback" not in result.stderr, f"{command}\n{result.stderr}"
            if command.startswith(("curl", "printf")):
                answer = json.loads(result.stdout)
                assert "error" not in answer, f"{command}\n{result.stdout}"
            ran.append(command.split()[0])
    assert ran.count("curl") + ran.count("printf") == 5 and ran.count(".venv/bin/mpg") == 5
    assert (clone / "predictions.csv").read_text().count("\n") == 4  # the header and three cars


def test_the_readme_gives_the_app_benchmarks_first_prediction_figures():
    """The README's first-prediction figures are bench/results/app.json's, rounded as bench/RESULTS.md rounds them."""
    readme = " ".join((config.PROJ_ROOT / "README.md").read_text().split())
    first = json.loads((config.PROJ_ROOT / "bench" / "results" / "app.json").read_text())["first_prediction"]
    median, very_first, watcher = first["median_s"], first["first_visit_s"], first["file_watcher"]
    ratio, watched = f"{first['ratio_median']:.2f}x", f"{watcher['ratio_median']:.2f}x"
    assert f"took {watched} the one-line app's time instead of {ratio}" in readme
    assert (f"{median['app']:.2f} s after navigation starts, against {median['one_metric']:.2f} s for a one-line "
            f"Streamlit app in the same browser: {ratio}, median over {first['visits']} "
            "alternating visits after each server's first") in readme  # fmt: skip
    assert (f"very first visit took {very_first['app']:.2f} s (the one-line app's: {very_first['one_metric']:.2f} s). "
            "Those seconds hold after the server's first visit") in readme  # fmt: skip
