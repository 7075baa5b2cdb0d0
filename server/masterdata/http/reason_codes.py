"""Reason codes over HTTP: the managed list a supervisor approves discrepancies with.

    GET   /api/reason-codes[?active=true|false]   the list (any user: counters may read it)
    GET   /api/reason-codes/{code}
    POST  /api/reason-codes                       create (supervisors): 201, 409 if it exists
    PATCH /api/reason-codes/{code}                change description, kinds or active
                                                  (logged: GET /api/masterdata-changes)

There is no DELETE (405): approvals name a code for ever; deactivate it instead.
"""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from schemas import counts as wire
from server.api.deps import CurrentCaller, Now, Uow
from server.api.wire import READ, WRITE
from server.domain.counting import ReasonCode
from server.masterdata.usecases import reason_codes
from server.masterdata.usecases.updates import Updating


def reason_code_out(code: ReasonCode) -> wire.ReasonCode:
    return wire.ReasonCode(
        code=code.code,
        description=code.description,
        kinds=list(code.kind_values),
        active=code.active,
    )


class ReasonCodeController(Controller):
    path = "/api/reason-codes"
    tags = ["stock counts"]

    @get("/", guards=READ)
    async def list_reason_codes(
        self, uow: Uow, active: FromQuery[bool | None] = None
    ) -> wire.ReasonCodeList:
        """Every reason code by code (a few dozen), or only the active or inactive ones."""
        found = await reason_codes.list_reason_codes(uow, active)
        return wire.ReasonCodeList(items=[reason_code_out(c) for c in found])

    @get("/{code:str}", guards=READ)
    async def get_reason_code(self, code: FromPath[str], uow: Uow) -> wire.ReasonCode:
        return reason_code_out(await reason_codes.get_reason_code(uow, code))

    @post("/", guards=WRITE)
    async def create_reason_code(
        self, data: JSONBody[wire.ReasonCode], uow: Uow
    ) -> wire.ReasonCode:
        """A new code; `kinds` empty: it fits every adjustable line kind."""
        record = {
            "code": data.code,
            "description": data.description,
            "kinds": list(data.kinds),
            "active": data.active,
        }
        return reason_code_out(await reason_codes.create_reason_code(uow, record))

    @patch("/{code:str}", guards=WRITE)
    async def change_reason_code(
        self,
        code: FromPath[str],
        data: JSONBody[wire.ReasonCodeChange],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.ReasonCode:
        """Change what is given; `"active": false` retires a code (it approves nothing new,
        approvals that name it keep it). Each changed field goes to the change log."""
        changed = await reason_codes.change_reason_code(
            uow,
            code,
            Updating(caller.name, now),
            description=data.description,
            kinds=data.kinds,
            active=data.active,
        )
        return reason_code_out(changed)
