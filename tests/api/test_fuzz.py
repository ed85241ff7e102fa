"""Property-based fuzzing of the OpenAPI schema (schemathesis, in-process against the ASGI app):
with an admin token no request gets a 5xx; without a token no request gets a 2xx.

Bounded: a few examples per operation, derandomized, so the run takes seconds and is the same
every time. The counts are printed (pytest -s shows them)."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import make_api, seed

EXAMPLES_WITH_TOKEN = 12
EXAMPLES_WITHOUT = 4


def _run(schema, examples: int, headers: dict[str, str] | None, check, counts: Counter, statuses: Counter) -> int:
    operations = [r.ok() for r in schema.get_all_operations()]
    for op in operations:
        @given(case=op.as_strategy())
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def one(case) -> None:
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            response = case.call(headers=headers or {})
            counts[f"{case.method.upper()} {case.operation.path}"] += 1
            statuses[response.status_code] += 1
            check(case, response)

        one()
    return len(operations)


def _no_server_error(case, response) -> None:
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"


def _never_without_token(case, response) -> None:
    assert not 200 <= response.status_code < 300, f"{case.method} {case.formatted_path} answered without a token"
    assert response.status_code in (401, 404), f"{case.method} {case.formatted_path}: {response.status_code}"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_fuzzing_the_schema_finds_no_5xx_and_no_route_open_without_a_token(tmp_path: Path) -> None:
    api = make_api(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    seed(api.ctx, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.client.app)
    with_token, with_status = Counter(), Counter()
    routes = _run(schema, EXAMPLES_WITH_TOKEN, api.auth("admin"), _no_server_error, with_token, with_status)
    without, without_status = Counter(), Counter()
    _run(schema, EXAMPLES_WITHOUT, None, _never_without_token, without, without_status)
    print(f"\nfuzz with an admin token: {sum(with_token.values())} requests over {routes} operations; "
          f"statuses {dict(sorted(with_status.items()))}")
    print(f"fuzz without a token: {sum(without.values())} requests over {len(without)} operations; "
          f"statuses {dict(sorted(without_status.items()))}")
    assert len(with_token) == len(without) == routes >= 25
    assert without_status[401] > 0 and with_status[200] + with_status[201] > 0
    api.ctx.store.dispose()
