"""A python-socketio AsyncServer (aiohttp) in a Redis cluster, for tests/python_cluster.test.ts.

    /usr/bin/python3 tests/python/cluster_server.py PORT REDIS_URL     (PORT 0 picks a free port)

Uses python-socketio's AsyncRedisManager on the channel `socketio` (Debian's 5.7.2 publishes pickles;
with PYTHONPATH pointing at python-socketio 5.14 or later, JSON).
Prints `listening on http://127.0.0.1:PORT` once the manager listens; exits on SIGTERM/SIGINT.
"""
import asyncio
import signal
import sys

import socketio
from aiohttp import web

port = int(sys.argv[1])
redis_url = sys.argv[2]

sio = socketio.AsyncServer(
    async_mode="aiohttp",
    client_manager=socketio.AsyncRedisManager(redis_url, channel="socketio"),
    cors_allowed_origins="*",
    ping_interval=0.3,
    ping_timeout=0.2,
)


@sio.on("join")
async def join(sid, room):
    joined = sio.enter_room(sid, room)  # a coroutine from 5.8 on
    if asyncio.iscoroutine(joined):
        await joined
    return True


@sio.on("broadcast")
async def broadcast(sid, *args):
    # a tuple: several arguments, to every client of every server
    await sio.emit("broadcast-back", args)


@sio.on("to-room")
async def to_room(sid, room, *args):
    await sio.emit("room-back", args, room=room)


@sio.on("skip-me")
async def skip_me(sid, text):
    await sio.emit("skipped", text, skip_sid=sid)


@sio.on("ask")
async def ask(sid, target, question):
    # a client of another server: the emit and its callback travel through Redis
    return await sio.call("question", question, to=target, timeout=5)


@sio.on("kick")
async def kick(sid, target):
    await sio.disconnect(target)
    return True


@sio.on("close")
async def close(sid, room):
    await sio.close_room(room)
    return True


async def start_manager(app):
    # python-socketio starts listening at its first connection; start now
    sio.manager_initialized = True
    sio.manager.initialize()


async def main():
    app = web.Application()
    sio.attach(app)
    app.on_startup.append(start_manager)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    print(f"listening on http://127.0.0.1:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


asyncio.run(main())
