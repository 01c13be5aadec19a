"""Property-based fuzzing of the open data API from its own OpenAPI document (schemathesis, over HTTP).

Every operation under /api/ gets at least 100 generated requests against the demo server: no response may
be a server error, and every response must match its documented status codes, content type and schema.
The checks are those two promises: schemathesis' opinion checks (e.g. "a schema-valid value must be
accepted") are not run, since the API refuses some schema-valid text (control characters) with its
documented 400. (schemathesis' pytest plugin does not run under pytest 9, so the test drives Hypothesis.)
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.live_server import LiveServer

EXAMPLES_PER_OPERATION = 100
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_the_api_answers_every_generated_request_as_documented(demo_server: LiveServer) -> None:
    """No 5xx; status code, content type, headers and body as the schema says, for every operation."""
    schema = schemathesis.openapi.from_url(f"{demo_server.base_url}/schema/openapi.json")
    operations = [result.ok() for result in schema.include(path_regex=r"^/api/").get_all_operations()]
    assert len(operations) >= 6, [operation.label for operation in operations]
    calls: dict[str, int] = {}

    def fuzz_operation(operation: schemathesis.APIOperation) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        @given(data=st.data())
        def fuzz(data: st.DataObject) -> None:
            case = data.draw(operation.as_strategy())
            case.call_and_validate(checks=CHECKS)
            calls[operation.label] = calls.get(operation.label, 0) + 1

        fuzz()

    for operation in operations:
        fuzz_operation(operation)

    assert all(count >= EXAMPLES_PER_OPERATION for count in calls.values()), calls
