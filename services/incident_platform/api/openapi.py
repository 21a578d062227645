"""Every status a route can answer, declared in its OpenAPI with the body it carries.

Routes declare their success answer and what only they can say (a 409 with its meaning,
PagerDuty's 400). What follows from how a route is built is declared here, once, for
every service, so a client generated from the spec knows every answer it can get:

* 401 and 403 on routes that take a credential (a dependency registered in
  :data:`incident_platform.api.deps.CREDENTIAL_OF`); the operation also carries
  ``x-required-credential`` (``viewer``, ``responder``, ``admin`` or
  ``integration:<kind>``), which the authorization tests enumerate;
* 400 on routes that take a body FastAPI cannot decode (not UTF-8);
* 404 on routes with a path parameter (the object it names may not exist);
* 413 on routes that take a body (``BodyLimitMiddleware``);
* 503 with ``Retry-After`` on every route that reads the database.

422 keeps FastAPI's ``{"detail": [{"loc", "msg", "type"}]}`` shape everywhere (FastAPI
declares it on every route with parameters); errors raised by the routes themselves use
the same shape (:func:`incident_platform.api.errors.invalid`).
"""

import json
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from incident_platform.api.deps import CREDENTIAL_OF

# Answered without touching the database.
_NO_DATABASE = frozenset({"/healthz", "/metrics"})
_REF = "#/components/schemas/{model}"
# Models referenced by name from route declarations; each spec gets those it uses.
_REFERENCED: dict[str, type[BaseModel]] = {}


class ErrorDetail(BaseModel):
    """401, 403, 404, 413 and 503: what went wrong, in one sentence."""

    detail: str


class ConflictMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    message: str


class ConflictDetail(BaseModel):
    """409: the sentence, and the facts it is about (current status, blocking objects)."""

    detail: ConflictMessage


def json_answer(model: type[BaseModel], description: str) -> dict[str, Any]:
    """A response object whose JSON body is ``model`` (added to the components)."""
    return {"description": description, "content": {"application/json": {"schema": ref(model)}}}


def ref(model: type[BaseModel]) -> dict[str, str]:
    """A JSON-schema reference to ``model``, which then joins the components of the spec."""
    _REFERENCED[model.__name__] = model
    return {"$ref": _REF.format(model=model.__name__)}


CONFLICT: dict[int | str, dict[str, Any]] = {
    409: json_answer(ConflictDetail, "Conflict with the current state; the body says which")
}

_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}


def _required_credential(dependant: Dependant) -> str | None:
    for dependency in dependant.dependencies:
        if dependency.call is not None and dependency.call in CREDENTIAL_OF:
            return CREDENTIAL_OF[dependency.call]
        found = _required_credential(dependency)
        if found is not None:
            return found
    return None


def _declare(route: APIRoute) -> None:
    answers: dict[int | str, dict[str, Any]] = {}
    credential = _required_credential(route.dependant)
    if credential is not None:
        answers[401] = json_answer(ErrorDetail, "Missing or unknown credential")
        answers[403] = json_answer(ErrorDetail, f"The credential is not enough; {credential}")
        route.openapi_extra = {**(route.openapi_extra or {}), "x-required-credential": credential}
    if route.dependant.path_params:
        answers[404] = json_answer(ErrorDetail, "No such object")
    if route.body_field is not None:
        # FastAPI's answer to a body that is not UTF-8 (invalid JSON text is a 422).
        answers[400] = json_answer(ErrorDetail, "The body could not be read")
    if route.body_field is not None or (route.methods or set()) & {"POST", "PUT", "PATCH"}:
        answers[413] = json_answer(ErrorDetail, "Request body larger than the limit")
    if route.path not in _NO_DATABASE:
        answers[503] = {
            **json_answer(ErrorDetail, "Database unavailable; retry after Retry-After seconds"),
            "headers": _RETRY_AFTER,
        }
    # What a route declares itself wins.
    route.responses = {**answers, **route.responses}


def document_answers(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Declare the shared answers on every route of ``app`` and of ``routers`` (before
    they are included); models referenced with :func:`ref` join the components of the
    spec of ``app``."""
    for router in (app.router, *routers):
        for route in router.routes:
            if isinstance(route, APIRoute):
                _declare(route)
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        text = json.dumps(schema)
        referenced = [m for name, m in _REFERENCED.items() if _REF.format(model=name) in text]
        _, definitions = models_json_schema(
            [(model, "validation") for model in referenced], ref_template=_REF
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in definitions.get("$defs", {}).items():
            components.setdefault(name, definition)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
