"""Wire structs shared by the server and the handheld: msgspec and the standard library only.

# Evolution rules (from msgspec's schema-evolution guide; a test holds us to them)
1. A new field always has a default, and goes after the existing fields.
2. Never rename, retype or reorder a field; never make an optional field required.
3. No `array_like=True` on anything a device sends or receives: messages are objects.
4. Tagged unions (`tag_field="kind"`) for event kinds; a new kind gets a new tag.
5. Money and quantities are decimals encoded as strings ("55.232"), never floats.
6. Bump PROTOCOL_VERSION when a change needs the peer to understand it; the server
   lists the versions it accepts in SUPPORTED_PROTOCOL_VERSIONS.
"""

from __future__ import annotations

PROTOCOL_VERSION = 2
SUPPORTED_PROTOCOL_VERSIONS = frozenset({1, 2})
