"""schemathesis hooks (loaded with SCHEMATHESIS_HOOKS=tests.schemathesis_hooks)."""

import schemathesis

from mpg import config

KEY_SETS = ({*config.FEATURES}, {config.ALIASES_BY_NAME[n] for n in config.FEATURES})


def padded(body):
    """Pad generated columns to one length: the columnar form's rule that JSON Schema cannot state.

    Padding repeats a column's own first value and never removes one, so an
    invalid generated body stays invalid and a valid one stays valid.
    """
    if isinstance(body, dict) and set(body) in KEY_SETS and all(isinstance(v, list) and v for v in body.values()):
        longest = max(len(v) for v in body.values())
        return {k: v + [v[0]] * (longest - len(v)) for k, v in body.items()}
    return body


@schemathesis.hook
def map_case(ctx, case):
    """Applied in every phase (coverage and fuzzing alike)."""
    case.body = padded(case.body)
    return case
