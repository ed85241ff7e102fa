"""Every error answer is JSON: {"error": {"status": N, "message": "...", "details": [...]}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sco_monitor.errors import UsageError
from sco_monitor.logs import get_logger

log = get_logger("sco_monitor.api")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def error_body(status: int, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc) or "request"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, e: ApiError) -> JSONResponse:
        return JSONResponse(error_body(e.status, e.message), status_code=e.status, headers=e.headers)

    @app.exception_handler(UsageError)
    async def _usage(_: Request, e: UsageError) -> JSONResponse:  # a library's "bad input" is the client's 400
        return JSONResponse(error_body(400, str(e)), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        details = [{"where": _where(err.get("loc", ())), "message": err.get("msg", "invalid")} for err in e.errors()]
        first = details[0] if details else {"where": "request", "message": "invalid"}
        more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        return JSONResponse(error_body(422, f"{first['where']}: {first['message']}{more}", details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, e: StarletteHTTPException) -> JSONResponse:
        message = e.detail if isinstance(e.detail, str) else "error"
        return JSONResponse(error_body(e.status_code, message), status_code=e.status_code,
                            headers=getattr(e, "headers", None))

    @app.exception_handler(SQLAlchemyError)
    async def _store(request: Request, e: SQLAlchemyError) -> JSONResponse:
        log.error("api_store_error", method=request.method, path=request.url.path, error=type(e).__name__)
        return JSONResponse(error_body(503, "the store is not available right now; retry later"), status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _crash(request: Request, e: Exception) -> JSONResponse:
        log.exception("api_error", method=request.method, path=request.url.path)
        return JSONResponse(error_body(500, f"internal error ({type(e).__name__}); see the daemon's log"),
                            status_code=500)
