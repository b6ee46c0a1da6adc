"""The client scenario server on python-socketio 5 (AsyncServer with aiohttp).

    /usr/bin/python3 tests/client/python_server.py PORT     (0 picks a free port)

Prints `listening on http://127.0.0.1:PORT`; exits on SIGTERM/SIGINT. The scenarios are the same as
in node_server.mjs (see tests/client/_suite.ts). python-socketio has no connection state recovery.
"""
import asyncio
import signal
import sys

import socketio
from aiohttp import web

sio = socketio.AsyncServer(
    async_mode="aiohttp",
    cors_allowed_origins="*",
    ping_interval=0.3,
    ping_timeout=0.2,
    max_http_buffer_size=1_000_000,
    cookie={"name": "lb", "path": "/"},
)
tries = {}
# The cookie of each session's latest request, for the `headers` scenario.
cookies = {}


@web.middleware
async def record_cookies(request, handler):
    sid = request.query.get("sid")
    if sid:
        cookies[sid] = request.headers.get("Cookie")
    return await handler(request)


def register(ns, private=False):
    async def connect(sid, environ, auth=None):
        if private and (not isinstance(auth, dict) or auth.get("token") != "ok"):
            raise socketio.exceptions.ConnectionRefusedError("not authorized", {"reason": "bad token"})
        # Sent before the CONNECT answer: the client must deliver it after its `connect` event.
        await sio.emit("auth", auth if auth is not None else {}, to=sid, namespace=ns)

    async def message(sid, *args):
        await sio.emit("message-back", args, to=sid, namespace=ns)

    async def message_with_ack(sid, *args):
        return args

    async def ack_never(sid, *args):
        return sio.not_handled

    async def flaky(sid, key):
        tries[key] = tries.get(key, 0) + 1
        if tries[key] >= 2:
            return "ok after %d" % tries[key]
        return sio.not_handled

    async def ask(sid, question):
        answer = await sio.call("question", question, to=sid, namespace=ns, timeout=5)
        await sio.emit("answer", answer, to=sid, namespace=ns)

    async def broadcast(sid, *args):
        await sio.emit("broadcast-back", args, namespace=ns)

    async def drop(sid):
        await sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, ns))

    async def server_disconnect(sid):
        await sio.disconnect(sid, namespace=ns)

    async def whoami(sid):
        return {"id": sid, "recovered": False, "transport": sio.eio.transport(sio.manager.eio_sid_from_sid(sid, ns))}

    async def headers(sid):
        environ = sio.get_environ(sid, namespace=ns)
        eio_sid = sio.manager.eio_sid_from_sid(sid, ns)
        return {"cookie": cookies.get(eio_sid), "extra": environ.get("HTTP_X_EXTRA")}

    handlers = {
        "connect": connect,
        "message": message,
        "message-with-ack": message_with_ack,
        "ack-never": ack_never,
        "flaky": flaky,
        "ask": ask,
        "broadcast": broadcast,
        "drop": drop,
        "server-disconnect": server_disconnect,
        "whoami": whoami,
        "headers": headers,
    }
    for name, handler in handlers.items():
        sio.on(name, handler, namespace=ns)


register("/")
register("/custom")
register("/private", private=True)


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    app = web.Application(middlewares=[record_cookies])
    sio.attach(app)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    actual = site._server.sockets[0].getsockname()[1]
    print("listening on http://127.0.0.1:%d" % actual, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


asyncio.run(main())
