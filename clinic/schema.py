"""The OpenAPI schema documents the error format on every operation, not only the happy path.

Every API error leaves as ``{"code", "detail", "fields"}`` (clinic/errors.py).
drf-spectacular documents the success responses it can see; this hook adds the
error responses each operation can give, all with the one ``Error`` body, so a
client (and the schemathesis fuzz in tests/clinic/test_api_fuzzing.py) can
check that every answer is one the schema promises:

- 400 where the operation takes a body or query parameters (field errors),
- 401 and 403 where it needs a signed-in user (no token; the role does not allow it),
- 404 where the path names an object, or on a paginated list (a page past the last),
- 409 on writes (the request clashes with the current state),
- 413 and 415 where it takes a body (too large; a media type it does not read),
- 503 everywhere (the database is not answering; retry).

A response the view documents itself is left as it is.

It also declares OpenAPI links from a create to what a client does next with the new row's id
(``LINKS``): a new patient's record, a booked session's cancel, a new course's plan. Schemathesis's
stateful phase follows them (and the ones it infers from the schema) in the fuzz.
"""

from __future__ import annotations

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: a machine-readable code, a plain-words detail, and field errors.",
    "properties": {
        "code": {"type": "string", "description": "e.g. invalid, not_found, chair_conflict"},
        "detail": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Field name -> messages; empty unless particular fields are at fault.",
        },
    },
    "required": ["code", "detail", "fields"],
    # Some refusals carry more for the client, e.g. the due window of outside_due_window.
    "additionalProperties": True,
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
DESCRIPTIONS = {
    "400": "The request is not valid: `fields` names each field at fault.",
    "401": "No valid credentials were sent.",
    "403": "The user's role does not allow this.",
    "404": "No such object.",
    "409": "The request clashes with the current state (the `code` says how).",
    "413": "The request body is too large.",
    "415": "The request body's media type is not one this operation reads.",
    "429": "Too many requests: throttled, or the account is locked out after repeated failed sign-ins.",
    "503": "The database is not answering just now; retry after `Retry-After` seconds.",
}


# (path, method, status) of the create -> link name -> (path, method) of the next call, given the new row's id.
LINKS = {
    ("/api/patients/", "post", "201"): {"GetPatient": ("/api/patients/{id}/", "get"),
                                        "PatientHistory": ("/api/patients/{id}/history/", "get")},
    ("/api/sessions/", "post", "201"): {"GetSession": ("/api/sessions/{id}/", "get"),
                                        "CancelSession": ("/api/sessions/{id}/cancel/", "post")},
    ("/api/courses/", "post", "201"): {"GetCourse": ("/api/courses/{id}/", "get"),
                                       "CoursePlan": ("/api/courses/{id}/plan/", "get")},
}


def _declare_links(paths: dict) -> None:
    for (path, method, status), links in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        for name, (target_path, target_method) in links.items():
            target = paths.get(target_path, {}).get(target_method)
            if target is None or "operationId" not in target:
                continue
            response.setdefault("links", {})[name] = {
                "operationId": target["operationId"], "parameters": {"id": "$response.body#/id"},
                "description": f"{target_method.upper()} {target_path} with the new row's id.",
            }


def _error_codes(method: str, operation: dict) -> list[str]:
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    signed_in = any(requirement for requirement in operation.get("security", []) or [])
    codes = []
    if has_body or any(parameter.get("in") == "query" for parameter in parameters):
        codes.append("400")
    if signed_in:
        codes += ["401", "403"]
    # A page past the last (or ?page=0) is 404 "Invalid page", as DRF's pagination answers it.
    if any(parameter.get("in") == "path" or parameter.get("name") == "page" for parameter in parameters):
        codes.append("404")
    if method in WRITE_METHODS:
        codes.append("409")
    if has_body:
        codes += ["413", "415"]
    codes.append("503")
    return codes


def document_errors(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: add the error responses, the ``Error`` component and ``LINKS``."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    _declare_links(result.get("paths", {}))
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "put", "post", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = _error_codes(method, operation) + [str(code) for code in operation.pop("x-error-codes", [])]
            for code in codes:
                responses.setdefault(code, {"description": DESCRIPTIONS[code],
                                            "content": {"application/json": {"schema": reference}}})
    return result
