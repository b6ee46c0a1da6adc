"""python-socketio's write-only manager (as a Celery worker or a script would use it), for
tests/python_cluster.test.ts: emits to the clients of a Redis cluster it is not part of.

    /usr/bin/python3 tests/python/write_only.py REDIS_URL ROOM
"""
import asyncio
import sys

import socketio


async def main():
    manager = socketio.AsyncRedisManager(sys.argv[1], channel="socketio", write_only=True)
    await manager.emit("external", {"from": "python"})
    await manager.emit("external-room", ("several", b"\x01\x02", [3]), room=sys.argv[2])
    print("published", flush=True)


asyncio.run(main())
