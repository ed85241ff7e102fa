"""Bearer-token authentication and the scope each route needs.

A route says what it needs with `Depends(RequireScope("operator"))` (the routers in `routes/` do
it once per router). No token, an unknown or a revoked one: 401; a token of a weaker scope: 403.
The token itself is never logged; the principal (token name and scope) is kept on the request
for the audit log and the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sco_monitor.api import tokens
from sco_monitor.api.errors import ApiError
from sco_monitor.api.scopes import allows

bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`; see `sco-monitor tokens create`")


@dataclass(frozen=True)
class Principal:
    name: str
    scope: str


class RequireScope:
    """The dependency that admits a token of `scope` or a higher one."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(
        self, request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
    ) -> Principal:
        if creds is None or not creds.credentials:
            raise ApiError(401, "missing bearer token: send `Authorization: Bearer <token>`",
                           headers={"WWW-Authenticate": "Bearer"})
        info = tokens.verify(request.app.state.ctx.store.engine, creds.credentials)
        if info is None:
            request.state.auth_failure = "unknown or revoked token"
            raise ApiError(401, "unknown or revoked token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        principal = Principal(info.name, info.scope)
        request.state.principal = principal
        if not allows(info.scope, self.scope):
            raise ApiError(403, f"token {info.name!r} has scope {info.scope!r}; this route needs {self.scope!r}",
                           headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{self.scope}"'})
        return principal
