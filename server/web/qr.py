"""QR codes as inline SVG (the `qrcode` package, no image files, nothing fetched)."""

from __future__ import annotations

import json

import qrcode
import qrcode.image.svg


def enrollment_payload(server: str, code: str) -> str:
    """What a device scans to enroll: the server's address and the one-time code, as
    compact JSON (`{"server": ..., "code": ...}`), readable by a device app in any
    language; the same two values `stockcount-handheld enroll URL CODE` takes."""
    return json.dumps({"server": server, "code": code}, separators=(",", ":"))


def qr_svg(text: str, title: str) -> str:
    """`text` as an SVG QR code with an accessible name, sized in CSS pixels."""
    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=10,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    svg: str = image.to_string(encoding="unicode")
    # One accessible name for the picture; the code is also printed beside it as text.
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return svg.replace("<svg ", '<svg role="img" class="qr" ', 1).replace(
        ">", f"><title>{escaped}</title>", 1
    )
