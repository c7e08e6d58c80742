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
    case.body = padded(case.body)
    if isinstance(case.query, dict) and case.query.get("explain") == "true" and vehicles(case.body) > 100:
        case.query["explain"] = "false"
    return case
