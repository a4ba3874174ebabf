"""Schemathesis hooks for the contract fuzzing (infra/scripts/contract.sh).

They keep generated requests meaningful without hiding any check:

- A cursor is opaque: only the `next` of a page of the same list is one, and
  no schema can generate those. A positive case's cursor is dropped unless
  the API handed it out as a `next` (the list is then read from its start);
  negative cursors are kept. The stateful phase follows real `next` values
  through the document's NextPage links (the lists without filters: groups,
  members, spaces, a space's guests, API tokens).
- What an operation deletes is a fixture made for it (fixtures.py: an API
  token to revoke, a group to delete), given here rather than in
  schemathesis.toml, and only outside the stateful phase: there a link
  (createApiToken's or createGroup's answer) names what was just made, and
  a configured value would replace the link's, so that the 404 of the
  fixture already deleted would read as "the resource just created is not
  found" (ensure_resource_availability counts a configured value as the
  link's).
- An Idempotency-Key names one request. Random keys repeat across cases
  ("0" is a favourite), and a key reused for another request is rightly a
  422, so a positive case gets a fresh key of the documented shape; the
  reuse of a key is tested end to end (infra/dev/devstack).

And one workaround: Hypothesis describes the lambdas of its strategies by
parsing their source, and on CPython 3.11 ast.parse deep in a stack can fail
with "SystemError: AST constructor recursion depth mismatch" (a CPython 3.11
bug), which schemathesis reports as a run error of whichever operation drew
it. Only the description is lost: the lambda is described as unknown.
"""

import os
import uuid

import schemathesis
from hypothesis.internal import lambda_sources
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase


_describe = lambda_sources._lambda_description


def _lambda_description(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _lambda_description


def _positive(case, location):
    info = case.meta.components.get(location) if case.meta else None
    return info is None or info.mode == GenerationMode.POSITIVE


# Every `next` the API answered: a positive case keeps a cursor only if it is
# one of these (the stateful phase passes them on through the links).
_given = set()


@schemathesis.hook
def after_call(context, case, response):
    try:
        body = response.json()
    except Exception:  # not JSON: a page, a CSV, an empty body
        return
    if isinstance(body, dict) and isinstance(body.get("next"), str):
        _given.add(body["next"])


# operationId: (path parameter, fixture variable) of what it deletes.
_DOOMED = {
    "revokeApiToken": ("tokenId", "CONTRACT_API_TOKEN_ID"),
    "deleteGroup": ("groupId", "CONTRACT_DOOMED_GROUP"),
}


@schemathesis.hook
def map_case(context, case):
    doomed = _DOOMED.get(case.operation.definition.raw.get("operationId"))
    if (doomed and case.meta and case.meta.phase.name != TestPhase.STATEFUL
            and case.path_parameters and _positive(case, ParameterLocation.PATH)):
        case.path_parameters[doomed[0]] = os.environ[doomed[1]]
    cursor = case.query.get("cursor") if case.query else None
    if isinstance(cursor, str) and cursor not in _given and _positive(case, ParameterLocation.QUERY):
        del case.query["cursor"]
    if case.headers and "Idempotency-Key" in case.headers and _positive(case, ParameterLocation.HEADER):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    return case
