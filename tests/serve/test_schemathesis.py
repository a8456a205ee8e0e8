"""Property-based API tests: schemathesis generates requests from the OpenAPI schema of the app.

Every operation is called with and without the bearer token; each response must not be a 5xx and
must conform to the schema (documented status code, content type, headers and body schema). The
last test checks that at least 500 requests were made in all. Set ``VASTGRAPH_SCHEMATHESIS_EXAMPLES``
to change the examples per operation and token mode (default 8).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install -e '.[test]')")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,  # noqa: E402
                                               response_schema_conformance, status_code_conformance)

import serve_util as U  # noqa: E402

pytestmark = pytest.mark.slow  # about a minute or more on 2 shared cores
EXAMPLES = int(os.environ.get("VASTGRAPH_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
CALLS = {"token": 0, "anonymous": 0}


def _app():
    from vastgraph.serve.app import create_app
    from vastgraph.serve.state import ServeConfig

    root = Path(tempfile.mkdtemp(prefix="vastgraph-schemathesis-"))
    store = U.make_store(root / "store")
    emb = U.make_dne(store, root / "emb", index={"kind": "hnsw", "metric": "cosine"})
    return create_app(ServeConfig(store=str(store), artifacts=str(emb), token=U.TOKEN, start_worker=False,
                                  rate=1e6, burst=10 ** 6))


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schemathesis.serializer.alias(["text/csv", "application/x-ndjson"], "text/plain")
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@schema.parametrize()
@SETTINGS
def test_api_without_token(case):
    CALLS["anonymous"] += 1
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@SETTINGS
def test_api_with_token(case):
    CALLS["token"] += 1
    case.call_and_validate(headers=U.AUTH, checks=CHECKS)


def test_enough_generated_requests():
    if EXAMPLES < 8:
        pytest.skip(f"VASTGRAPH_SCHEMATHESIS_EXAMPLES={EXAMPLES} < 8: a reduced run")
    print(f"schemathesis requests: {CALLS} (total {sum(CALLS.values())})")
    assert CALLS["anonymous"] > 0 and CALLS["token"] > 0, CALLS
    assert sum(CALLS.values()) >= 500, CALLS
