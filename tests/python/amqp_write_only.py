"""python-socketio's write-only KombuManager (as a Celery worker would use it), for
tests/python_amqp.test.ts.

    /usr/bin/python3 tests/python/amqp_write_only.py AMQP_URL
"""
import sys

import socketio

manager = socketio.KombuManager(sys.argv[1], channel="socketio", write_only=True)
manager.emit("external", ("from kombu", b"\x07"))
print("published", flush=True)
