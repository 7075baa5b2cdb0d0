"""The NUL check of a MessagePack body (server/api/content.py `check_body`): it looks at a
body's text only when the body may hold NUL, and still refuses NUL wherever text is, in a
push's events and fields and in a mapping's keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from litestar.exceptions import ValidationException

from schemas.sync import Event, PushRequest, SerialScanned
from server.api import content
from server.api.content import check_body

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def push(events: int = 500, **changed: str) -> PushRequest:
    """A push of serial scans as a handheld sends it; `changed`: one event body's field."""
    bodies = [
        SerialScanned(
            count="C-1", bin="A-01", bin_seq=1, item="SER", serial=f"S{s}", raw=f"]C1S{s}"
        )
        for s in range(1, events + 1)
    ]
    if changed:
        bodies[events // 2] = msgspec.structs.replace(bodies[events // 2], **changed)
    return PushRequest(
        protocol_version=1,
        device_id=3,
        install_id="ab" * 16,
        device_time=NOW,
        events=[Event(seq=s, device_time=NOW, body=b) for s, b in enumerate(bodies, 1)],
    )


def checked(value: Any, kind: Any) -> Any:
    """`value` sent as MessagePack, decoded as the sync routes decode it, and checked."""
    body = msgspec.msgpack.encode(value)
    data = msgspec.msgpack.decode(body, type=kind)
    check_body(data, body, kind, msgpack=True)
    return data


@pytest.mark.parametrize(
    ("field", "where"),
    [("raw", "events[250].body.raw"), ("serial", "events[250].body.serial")],
)
def test_nul_in_an_event_is_refused_at_its_field(field: str, where: str) -> None:
    with pytest.raises(ValidationException) as refused:
        checked(push(**{field: "a\x00b"}), PushRequest)
    assert refused.value.detail == "text may not hold the NUL character"
    assert refused.value.extra == [
        {"key": where, "message": "text may not hold the NUL character", "source": "body"}
    ]


def test_nul_in_a_field_of_the_push_and_in_a_mapping_key_is_refused() -> None:
    with pytest.raises(ValidationException, match="NUL"):
        checked(msgspec.structs.replace(push(3), app_version="1.2\x00"), PushRequest)
    with pytest.raises(ValidationException, match="NUL"):
        checked({"MAIN": 1, "A\x00": 2}, dict[str, int])


def test_a_push_without_nul_passes_and_is_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The body holds 0x00 bytes (integers, lengths), yet no text holds NUL: no walk. A
    backslash and "u0000" in a text is not NUL: a false alarm that passes after the walk."""
    walked: list[str] = []
    real = content._check_text

    def check_text(value: Any, where: str) -> None:
        walked.append(where)
        real(value, where)

    monkeypatch.setattr(content, "_check_text", check_text)
    sent = push()
    assert b"\x00" in msgspec.msgpack.encode(sent)
    assert checked(sent, PushRequest) == sent
    assert walked == []
    look_alike = push(raw="\\u0000")
    assert checked(look_alike, PushRequest) == look_alike
    assert walked[0] == ""  # the walk from the top
