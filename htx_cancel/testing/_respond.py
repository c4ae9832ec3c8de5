"""How the fake exchange answers: JSON with the pool's headers, in the chosen shape, or a fault."""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from .._clock import Clock
from ._answers import (
    ERR_BUSY,
    ERR_MAINTENANCE_1431,
    ERR_RATE_LIMITED,
    HTML_502,
    HTML_504,
    JSON,
    ErrorStyle,
    encode,
    error_answer,
    maintain_answer,
    raw_http_head,
    restyle,
)
from ._faults import Fault, FaultInjector, FaultKind
from ._ratelimit import ServerPools
from ._records import RequestRecord
from ._routes import Route
from ._v5 import envelope as v5
from ._v5.codes import OK as V5_OK

RateHeaders = Literal["all", "v1", "none"]

__all__ = ["CODE_1067_ANSWER", "PlainText", "RateHeaders", "Responder", "code_of"]

PlainText = Literal["never", "alternate", "always"]
CODE_1067_ANSWER: JSON = {"code": 1067, "message": "Illegal parameter."}


def code_of(route: Route, answer: JSON) -> int | str | None:
    """The whole-request error code of an answer in the route's envelope (None: no error)."""
    if route.family == "v1":
        code = answer.get("err_code")
    else:
        code = answer.get("code")
        if code == V5_OK:
            code = None
    return code if isinstance(code, int | str) and not isinstance(code, bool) else None


class Responder:
    """The answering half of [`FakeExchange`][htx_cancel.testing.FakeExchange] (see there)."""

    pools: ServerPools
    faults: FaultInjector
    plain_text: PlainText
    error_style: ErrorStyle
    ts_as_string: bool
    v5_styles: frozenset[str]
    rate_headers: RateHeaders
    _clock: Clock
    _answers: int

    def _ts(self) -> int:
        raise NotImplementedError

    def _rate_headers(self, route: Route) -> dict[str, str] | None:
        """``ratelimit-*`` for the route's own pool (strategy, algo), else trade or read."""
        if self.rate_headers == "none" or (self.rate_headers == "v1" and route.family != "v1"):
            return None
        return self.pools.headers(route.pools[-1], self._clock.now(), self._ts())

    def _error(self, route: Route, code: int | str, message: str, ts: int) -> JSON:
        """A whole-request error in the route's envelope."""
        if route.family == "v1":
            return error_answer(code, message, ts)
        return v5.error(code, message, ts)

    def _finish(
        self,
        record: RequestRecord,
        route: Route,
        answer: JSON,
        status: int = 200,
        *,
        err_code: int | str | None = None,
    ) -> web.Response:
        """Close the record and answer JSON with the rate-limit headers."""
        code = code_of(route, answer) if err_code is None else err_code
        record.status = status
        record.err_code = code
        record.answered = self._clock.now()
        return self._json(answer, status=status, headers=self._rate_headers(route),
                          family=route.family)

    def _json(
        self, answer: JSON, *, status: int = 200, headers: dict[str, str] | None = None,
        family: str = "v1",
    ) -> web.Response:
        """A JSON body in the chosen answer style, served as text/plain when ``plain_text``
        says so."""
        self._answers += 1
        plain = self.plain_text == "always" or (
            self.plain_text == "alternate" and self._answers % 2 == 0
        )
        content_type = "text/plain" if plain else "application/json"
        if family == "v1":
            answer = restyle(answer, self.error_style, self.ts_as_string)
        else:
            answer = restyle(v5.restyle(answer, self.v5_styles), "err_code", self.ts_as_string)
        return web.Response(
            body=encode(answer), status=status, headers=headers, content_type=content_type
        )

    def _fault_before(
        self, record: RequestRecord, route: Route, fault: Fault
    ) -> web.Response:
        """Answer with the fault instead of processing the request."""
        kind = fault.kind
        ts = self._ts()
        if kind is FaultKind.ERROR_500_BEFORE:
            return self._raw(record, route, 500, b"500 Internal Server Error", "text/plain")
        if kind is FaultKind.HTML_BEFORE:
            return self._raw(record, route, 502, HTML_502, "text/html")
        if kind is FaultKind.MAINTENANCE:
            return self._finish(record, route, maintain_answer())
        if kind is FaultKind.CODE_1067:
            return self._finish(record, route, dict(CODE_1067_ANSWER), err_code=1067)
        codes = {
            FaultKind.BUSY: ERR_BUSY,
            FaultKind.RATE_LIMIT: ERR_RATE_LIMITED,
            FaultKind.MAINTENANCE_1431: ERR_MAINTENANCE_1431,
        }
        code, message = codes.get(kind, (fault.err_code, fault.err_msg))
        return self._finish(record, route, self._error(route, code, message, ts),
                            err_code=code)

    def _raw(
        self, record: RequestRecord, route: Route, status: int, body: bytes, ctype: str
    ) -> web.Response:
        """A non-JSON answer (gateway pages)."""
        record.status = status
        record.answered = self._clock.now()
        return web.Response(
            body=body, status=status, content_type=ctype, headers=self._rate_headers(route)
        )

    async def _fault_after(
        self,
        request: web.Request,
        record: RequestRecord,
        route: Route,
        fault: Fault,
        answer: JSON,
    ) -> web.StreamResponse:
        """The orders are already cancelled; now the answer goes wrong."""
        kind = fault.kind
        if kind is FaultKind.GATEWAY_504_AFTER:
            return self._raw(record, route, 504, HTML_504, "text/html")
        if kind is FaultKind.HANG_AFTER:
            await self._clock.sleep(self.faults.hang_for(fault))
            return self._finish(record, route, answer)
        body = encode(answer)
        if kind is FaultKind.GARBLED_AFTER:
            record.status = 200
            record.answered = self._clock.now()
            return web.Response(
                body=body[: len(body) // 2],
                content_type="application/json",
                headers=self._rate_headers(route),
            )
        transport = request.transport
        if transport is not None and kind is FaultKind.TRUNCATE_AFTER:
            record.status = 200
            head = raw_http_head(200, "OK", "application/json", len(body))
            transport.write(head + body[: len(body) // 2])
        if transport is not None:
            transport.close()  # flushes what was written, then no more: the client sees EOF
        record.answered = self._clock.now()
        # Writing this to the closed transport fails quietly inside aiohttp.
        return web.Response(status=200)
