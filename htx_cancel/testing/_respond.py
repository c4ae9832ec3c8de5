"""How the fake exchange answers: JSON with the pool's headers, in the chosen shape, or a fault."""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from .._catalog import Endpoint
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

__all__ = ["CODE_1067_ANSWER", "PlainText", "Responder"]

PlainText = Literal["never", "alternate", "always"]
CODE_1067_ANSWER: JSON = {"code": 1067, "message": "Illegal parameter."}


class Responder:
    """The answering half of :class:`FakeExchange` (see there)."""

    pools: ServerPools
    faults: FaultInjector
    plain_text: PlainText
    error_style: ErrorStyle
    ts_as_string: bool
    _clock: Clock
    _answers: int

    def _ts(self) -> int:
        raise NotImplementedError

    def _rate_headers(self, endpoint: Endpoint) -> dict[str, str]:
        """``ratelimit-*`` for the endpoint's own pool (strategy), else trade or read."""
        return self.pools.headers(endpoint.pools[-1], self._clock.now(), self._ts())

    def _finish(
        self,
        record: RequestRecord,
        endpoint: Endpoint,
        answer: JSON,
        status: int = 200,
        *,
        err_code: int | str | None = None,
    ) -> web.Response:
        """Close the record and answer JSON with the rate-limit headers."""
        code = answer.get("err_code") if err_code is None else err_code
        record.status = status
        record.err_code = code if isinstance(code, int | str) else None
        record.answered = self._clock.now()
        return self._json(answer, status=status, headers=self._rate_headers(endpoint))

    def _json(
        self, answer: JSON, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        """A JSON body, served as text/plain when ``plain_text`` says so."""
        self._answers += 1
        plain = self.plain_text == "always" or (
            self.plain_text == "alternate" and self._answers % 2 == 0
        )
        content_type = "text/plain" if plain else "application/json"
        answer = restyle(answer, self.error_style, self.ts_as_string)
        return web.Response(
            body=encode(answer), status=status, headers=headers, content_type=content_type
        )

    def _fault_before(
        self, record: RequestRecord, endpoint: Endpoint, fault: Fault
    ) -> web.Response:
        """Answer with the fault instead of processing the request."""
        kind = fault.kind
        ts = self._ts()
        if kind is FaultKind.ERROR_500_BEFORE:
            return self._raw(record, endpoint, 500, b"500 Internal Server Error", "text/plain")
        if kind is FaultKind.HTML_BEFORE:
            return self._raw(record, endpoint, 502, HTML_502, "text/html")
        if kind is FaultKind.MAINTENANCE:
            return self._finish(record, endpoint, maintain_answer())
        if kind is FaultKind.CODE_1067:
            return self._finish(record, endpoint, dict(CODE_1067_ANSWER), err_code=1067)
        codes = {
            FaultKind.BUSY: ERR_BUSY,
            FaultKind.RATE_LIMIT: ERR_RATE_LIMITED,
            FaultKind.MAINTENANCE_1431: ERR_MAINTENANCE_1431,
        }
        code, message = codes.get(kind, (fault.err_code, fault.err_msg))
        return self._finish(record, endpoint, error_answer(code, message, ts))

    def _raw(
        self, record: RequestRecord, endpoint: Endpoint, status: int, body: bytes, ctype: str
    ) -> web.Response:
        """A non-JSON answer (gateway pages)."""
        record.status = status
        record.answered = self._clock.now()
        return web.Response(
            body=body, status=status, content_type=ctype, headers=self._rate_headers(endpoint)
        )

    async def _fault_after(
        self,
        request: web.Request,
        record: RequestRecord,
        endpoint: Endpoint,
        fault: Fault,
        answer: JSON,
    ) -> web.StreamResponse:
        """The orders are already cancelled; now the answer goes wrong."""
        kind = fault.kind
        if kind is FaultKind.GATEWAY_504_AFTER:
            return self._raw(record, endpoint, 504, HTML_504, "text/html")
        if kind is FaultKind.HANG_AFTER:
            await self._clock.sleep(self.faults.hang_for(fault))
            return self._finish(record, endpoint, answer)
        body = encode(answer)
        if kind is FaultKind.GARBLED_AFTER:
            record.status = 200
            record.answered = self._clock.now()
            return web.Response(
                body=body[: len(body) // 2],
                content_type="application/json",
                headers=self._rate_headers(endpoint),
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
