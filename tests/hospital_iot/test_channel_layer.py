"""The channel layer under a reconnect storm: a ward of tablets (and the 200 browsers of bench-e2e) joining
and leaving floor groups at the same moment."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def test_it_lets_hundreds_of_consumers_join_and_leave_a_group_at_once() -> None:
    layer = get_channel_layer()
    assert layer is not None

    async def storm() -> int:
        names = [await layer.new_channel() for _ in range(300)]
        await asyncio.gather(*(layer.group_add("storm-test", name) for name in names))
        await layer.group_send("storm-test", {"type": "floor.frame", "text": "{}"})
        received = await asyncio.gather(*(layer.receive(name) for name in names[:3]))
        await asyncio.gather(*(layer.group_discard("storm-test", name) for name in names))
        return len(received)

    assert async_to_sync(storm)() == 3
