"""Drives examples/python/app.ts (python-socketio's example app, ported) with python-socketio's own
client, as the original app would be used; prints the transcript as one JSON line.

    /usr/bin/python3 tests/python/example_client.py URL
"""
import asyncio
import json
import sys

import socketio


async def main():
    sio = socketio.AsyncClient()
    received = []
    ticked = asyncio.Event()

    @sio.on("my_response")
    async def my_response(message):
        if message.get("data") == "Server generated event":
            ticked.set()
        else:
            received.append(message)

    @sio.on("server_ping")
    async def server_ping(sent):
        return sent  # the answer to the server's call()

    await sio.connect(sys.argv[1], auth={"name": "py"}, transports=["websocket"])
    sid = sio.get_sid()
    await sio.emit("my_event", {"data": "hello"})
    await sio.call("my_event", {"data": "again"})  # call(): waits until the server handled it
    await sio.call("my_broadcast_event", {"data": "to everyone"})
    await sio.call("join", {"room": "lobby"})
    await sio.call("my_room_event", {"room": "lobby", "data": "to the lobby"})
    ping = await sio.call("my_ping")
    await sio.call("close_room", {"room": "lobby"})
    await sio.call("my_room_event", {"room": "lobby", "data": "nobody hears this"})
    await sio.call("join", {"room": "attic"})
    await sio.call("leave", {"room": "attic"})
    await asyncio.wait_for(ticked.wait(), 5)
    await sio.emit("disconnect_request")
    await asyncio.wait_for(sio.wait(), 5)
    print(json.dumps({"received": received, "ping": ping, "sid": sid}))


asyncio.run(main())
