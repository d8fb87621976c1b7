"""Reading the archive stream ``buurtsignaal.archive`` from its beginning.

Every event any service published is in the stream (see ``topology``), so a
projection can be rebuilt by replaying it. A stream has no end: a reader decides
where to stop. :func:`read_archive` first asks where the stream ends *now* (a
consumer at offset ``last`` receives the stream's last chunk at once; its highest
offset is the tail), then replays from ``first`` up to and including that
offset. Whatever is published afterwards is not read; a service that was
stopped before the replay began finds those events in its own queue.

Streams need a bounded prefetch and manual acknowledgement (the ack only gives
the broker credit to send more; nothing is removed from a stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from servicekit.topology import ARCHIVE_STREAM, declare_shared


@dataclass(frozen=True)
class ArchivedMessage:
    offset: int
    event_type: str
    message_id: str
    body: bytes


@dataclass
class ArchiveProgress:
    """Where a replay is: its first and last offset (known once reading started)."""

    first_offset: int | None = None
    last_offset: int | None = None

    @property
    def total(self) -> int | None:
        if self.first_offset is None or self.last_offset is None:
            return None
        return self.last_offset - self.first_offset + 1


def _offset(message: AbstractIncomingMessage) -> int:
    return int((message.headers or {})["x-stream-offset"])  # type: ignore[call-overload]


async def stream_tail(
    channel: AbstractChannel,
    stream: str = ARCHIVE_STREAM,
    *,
    wait: float = 2.0,
    settle: float = 0.3,
) -> int | None:
    """The offset of the stream's last message now; None when it is empty.

    ``wait`` is how long an empty stream is given to show a message; ``settle``
    how long the last chunk may take to arrive after its first message.
    """
    queue = await channel.get_queue(stream, ensure=False)
    highest: int | None = None
    arrived = asyncio.Event()

    async def seen(message: AbstractIncomingMessage) -> None:
        nonlocal highest
        offset = _offset(message)
        highest = offset if highest is None else max(highest, offset)
        arrived.set()
        await message.ack()

    tag = await queue.consume(seen, arguments={"x-stream-offset": "last"})
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), wait)
        if highest is not None:
            # the rest of the last chunk follows at once; wait until it stops
            while True:
                before = highest
                await asyncio.sleep(settle)
                if highest == before:
                    break
    finally:
        await queue.cancel(tag)
    return highest


async def read_archive(
    amqp_url: str,
    *,
    prefetch: int = 200,
    stream: str = ARCHIVE_STREAM,
    progress: ArchiveProgress | None = None,
    wait: float = 2.0,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[ArchivedMessage]:
    """Every message of the stream, oldest first, up to where it ended when called."""
    progress = progress if progress is not None else ArchiveProgress()
    connection = await aio_pika.connect(amqp_url, ssl_context=ssl_context)
    try:
        channel = await connection.channel()
        await declare_shared(channel)
        await channel.set_qos(prefetch_count=prefetch)
        tail = await stream_tail(channel, stream, wait=wait)
        if tail is None:
            return
        progress.last_offset = tail
        queue = await channel.get_queue(stream, ensure=False)
        async with queue.iterator(arguments={"x-stream-offset": "first"}) as messages:
            async for message in messages:
                offset = _offset(message)
                if progress.first_offset is None:
                    progress.first_offset = offset
                yield ArchivedMessage(
                    offset=offset,
                    event_type=str(message.type or ""),
                    message_id=str(message.message_id or ""),
                    body=message.body,
                )
                await message.ack()
                if offset >= tail:
                    break
    finally:
        await connection.close()
