"""docs/PROTOCOL.md's worked exchange is a test run: each request in it is sent, as written,
to the real app on a fresh database, and each answer must be the one written under it,
byte for byte, once the values that differ per run (the enrollment code, the device's
credential, the server's epoch, a PIN verifier's salt and hash) are put back as the
placeholders the page shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import enrollment_code, token
from tests.integration.counts_setup import create_count, seed, start

DOC = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"
STEP = re.compile(
    r"<!-- exchange: (?P<name>[\w-]+) (?P<path>/\S+) -->\n"
    r"```json\n(?P<request>.*?)\n```\n.*?"
    r"answers (?P<status>\d{3})[^\n]*\n```json\n(?P<answer>.*?)\n```",
    re.DOTALL,
)


def steps() -> list[re.Match[str]]:
    found = list(STEP.finditer(DOC.read_text()))
    assert len(found) >= 6, "docs/PROTOCOL.md lost its worked exchange"
    return found


async def test_the_worked_exchange_of_the_protocol_page_is_what_the_server_answers(
    client: AsyncTestClient[Litestar], database_url: str
) -> None:
    await seed(database_url)
    sup = await token(client, "super")
    number = await create_count(client, sup, location="MAIN", scope="prefix", prefix="A-")
    await start(client, sup, number)
    pin = await client.put(
        "/api/users/counter/pin", json={"pin": "4711", "locations": ["MAIN"]}, headers=sup
    )
    assert pin.status_code == 200, pin.text
    code = await enrollment_code(client, await token(client, "admin"))
    placeholders: dict[str, str] = {"<code>": code, "<count>": number}
    headers = {"Content-Type": "application/json"}
    differ: list[str] = []
    for step in steps():
        request = step["request"]
        for placeholder, value in placeholders.items():
            request = request.replace(placeholder, value)
        version = str(json.loads(request)["protocol_version"])
        answer = await client.post(
            step["path"],
            content=request.encode(),
            headers={**headers, "X-Stockcount-Protocol": version},
        )
        text = answer.text
        if step["name"] == "enroll":
            credential = answer.json()["credential"]
            headers["Authorization"] = f"Bearer {credential}"
            text = text.replace(credential, "<credential>")
        epoch = re.search(r'"(?:server_epoch|epoch)":"([^"]+)"', text)
        if epoch:
            placeholders["<epoch>"] = epoch[1]
            text = text.replace(epoch[1], "<epoch>")
        text = text.replace(number, "<count>")
        # A PIN verifier's salt, and so its hash, are new each time one is made.
        text = re.sub(r'"(salt|hash)":"[0-9a-f]+"', r'"\1":"<\1>"', text)
        if (answer.status_code, text) != (int(step["status"]), step["answer"]):
            differ.append(f"{step['name']} answers {answer.status_code}:\n{text}")
    assert not differ, "the worked exchange is not what the server answers:\n" + "\n".join(differ)
