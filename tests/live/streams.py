"""Reading event streams of a real server from tests: sign in, connect, read messages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from bs4 import BeautifulSoup

PASSWORD = "correct horse battery"  # noqa: S105 - the test users' password


async def signed_in(base_url: str, email: str) -> httpx.AsyncClient:
    """An httpx client with an editor session on the server at ``base_url``."""
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    login = await client.get("/auth/login")
    form = BeautifulSoup(login.text, "html.parser").find("form", method="post")
    fields = {f["name"]: f.get("value", "") for f in form.find_all("input") if f.get("name")}
    response = await client.post("/auth/login", data={**fields, "email": email,
                                                        "password": PASSWORD})
    assert response.status_code in (302, 303), response.text[:300]
    return client


@dataclass
class Message:
    id: str | None = None
    event: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)

    def json(self) -> dict:
        return json.loads(self.data)


async def messages(response: httpx.Response) -> AsyncIterator[Message]:
    """The SSE messages of a streamed response (comments are reported as messages too)."""
    message = Message()
    async for line in response.aiter_lines():
        if line == "":
            if message.id or message.event or message.data or message.comments:
                yield message
            message = Message()
        elif line.startswith(":"):
            message.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "id":
                message.id = value
            elif name == "event":
                message.event = value
            elif name == "data":
                message.data += ("\n" if message.data else "") + value


async def next_event(stream: AsyncIterator[Message], timeout: float = 10) -> Message:  # noqa: ASYNC109
    """The next message that is an event (not a heartbeat or ``retry``)."""
    async with asyncio.timeout(timeout):
        async for message in stream:
            if message.event or message.data:
                return message
    raise AssertionError("the stream ended")
