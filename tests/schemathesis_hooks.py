"""schemathesis hooks (loaded with SCHEMATHESIS_HOOKS=tests.schemathesis_hooks)."""

import schemathesis

from mpg import config

KEY_SETS = ({*config.FEATURES}, {config.SNAKE[n] for n in config.FEATURES})


def padded(body):
    """Pad generated columns to one length: the columnar form's rule that JSON Schema cannot state.

    Padding repeats a column's own first value and never removes one, so an
    invalid generated body stays invalid and a valid one stays valid.
    """
    if isinstance(body, dict) and set(body) in KEY_SETS and all(isinstance(v, list) and v for v in body.values()):
        longest = max(len(v) for v in body.values())
        return {k: v + [v[0]] * (longest - len(v)) for k, v in body.items()}
    return body


KNOWN = {"cylinders": 4, "displacement": 140.0, "horsepower": 90.0, "weight": 2500.0, "acceleration": 15.0,
         "model_year": 76, "origin": 1}  # fmt: skip
KNOWN.update({config.CANONICAL[key]: value for key, value in list(KNOWN.items())})


def knows_an_input(body):
    """A car that knows none of its seven inputs is refused (422): JSON Schema cannot say "not all null" across
    columns, so such a generated car gets one valid input (its first), in each shape a car comes in: an object,
    columns, or pandas' split rows. Only an all-null car changes, and a null is as valid as the value it becomes."""
    if isinstance(body, list):
        return [knows_an_input(item) for item in body]
    if not isinstance(body, dict):
        return body
    if set(body) in KEY_SETS and all(isinstance(v, list) for v in body.values()):
        first = next(iter(body))
        for i in range(min(map(len, body.values()), default=0)):
            if all(column[i] is None for column in body.values()):
                body[first][i] = KNOWN[first]
        return body
    if set(body) in KEY_SETS and all(value is None for value in body.values()):
        return {**body, next(iter(body)): KNOWN[next(iter(body))]}
    columns, rows = body.get("columns"), body.get("data")
    if isinstance(columns, list) and columns and isinstance(rows, list) and str(columns[0]) in KNOWN:
        for row in rows:
            if isinstance(row, list) and row and all(value is None for value in row):
                row[0] = KNOWN[str(columns[0])]
    return {key: knows_an_input(value) if isinstance(value, dict | list) else value for key, value in body.items()}


def _one_length(shape) -> bool:
    return (
        isinstance(shape, list) and len(shape) == 1 and isinstance(shape[0], int | float)
        and not isinstance(shape[0], bool) and shape[0] >= 1 and shape[0] == int(shape[0])
    )  # fmt: skip


def tensors_of_one_length(body):
    """v2 inputs: pad each tensor's data to the longest and set a valid 1-D shape to the data's length.

    The same rule as `padded` (all columns one length), plus the protocol's own (a shape matches
    its data), neither of which JSON Schema can state. An invalid shape is left as generated.
    """
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(t, dict) and isinstance(t.get("data"), list) for t in inputs):
        return body
    longest = max((len(t["data"]) for t in inputs), default=0)
    for tensor in inputs:
        if tensor["data"]:
            tensor["data"] = tensor["data"] + [tensor["data"][0]] * (longest - len(tensor["data"]))
        if _one_length(tensor.get("shape")):
            tensor["shape"] = [len(tensor["data"])]
    return body


def vehicles(body) -> int:
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        return max((len(v) for v in body.values() if isinstance(v, list)), default=1)
    return 0


@schemathesis.hook
def map_case(ctx, case):
    """Applied in every phase (coverage and fuzzing alike).

    Also the explain limit (100 vehicles), which depends on the query and so cannot
    be stated in the body's schema: a larger body is sent without explain. Only a
    valid query value changes, so the case stays valid or invalid as generated.
    """
    case.body = tensors_of_one_length(padded(case.body))
    if isinstance(case.body, dict) and set(case.body) == {"inputs"}:  # MLflow's inputs may be columns too
        case.body["inputs"] = padded(case.body["inputs"])
    case.body = knows_an_input(case.body)
    if isinstance(case.query, dict) and case.query.get("explain") == "true" and vehicles(case.body) > 100:
        case.query["explain"] = "false"
    return case
