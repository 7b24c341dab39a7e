"""Uniform error answers: every failure is an :class:`ErrorBody` saying what and what to do."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from server_agent.contract import ErrorBody


class ApiError(HTTPException):
    """Raise from routers: ``ApiError(404, "not_found", "no device 'x'", "list /devices")``."""

    def __init__(self, status: int, error: str, detail: str, hint: str = "") -> None:
        super().__init__(status_code=status, detail=detail)
        self.error = error
        self.hint = hint


def _body(error: str, detail: str, hint: str = "") -> dict[str, str]:
    return ErrorBody(error=error, detail=detail, hint=hint).model_dump()


_DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid_input",
    503: "unavailable",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            _body(exc.error, str(exc.detail), exc.hint), exc.status_code, headers=headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _DEFAULT_CODES.get(exc.status_code, "error")
        hint = "see /openapi.json for the API" if exc.status_code in (404, 405) else ""
        return JSONResponse(_body(code, str(exc.detail), hint), exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors()[:10]:
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
        return JSONResponse(
            _body("invalid_input", "; ".join(parts), "fix the named fields and send again"), 422
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        import logging

        logging.getLogger("flypack.api").exception("unhandled error: %s", exc)
        return JSONResponse(
            _body("internal", "the agent hit an unexpected error; it keeps running",
                  "see the agent log; retry, and report it if it repeats"),
            500,
        )
