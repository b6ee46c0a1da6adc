"""python-socketio 5 client run against the protocol fixture by python_socketio.test.ts.

    /usr/bin/python3 tests/interop/python_client.py URL TRANSPORT    (TRANSPORT: polling | websocket)

Prints one JSON line with what it observed; the TS test asserts it. Bytes are written as
{"bytes": [..]} so the JSON shows they arrived as bytes. Exits non-zero on an unexpected error
(the traceback goes to stderr).
"""
import json
import sys
import threading

import socketio

TIMEOUT = 5


def plain(value):
    """JSON-friendly copy of a value that marks bytes."""
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": list(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class Inbox:
    """Collects the arguments of events, in order, per (namespace, event)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.items = {}

    def put(self, key, args):
        with self.cond:
            self.items.setdefault(key, []).append(args)
            self.cond.notify_all()

    def take(self, key):
        with self.cond:
            if not self.cond.wait_for(lambda: self.items.get(key), timeout=TIMEOUT):
                raise TimeoutError("no %s within %s s" % (key, TIMEOUT))
            return self.items[key].pop(0)


def main():
    url, transport = sys.argv[1], sys.argv[2]
    result = {}
    inbox = Inbox()
    sio = socketio.Client(reconnection=False)

    @sio.on("auth")
    def on_auth(*args):
        inbox.put(("/", "auth"), args)

    @sio.on("auth", namespace="/custom")
    def on_custom_auth(*args):
        inbox.put(("/custom", "auth"), args)

    @sio.on("message-back")
    def on_message_back(*args):
        inbox.put(("/", "message-back"), args)

    sio.connect(
        url,
        transports=[transport],
        namespaces=["/", "/custom"],
        auth={"token": "py-123", "n": 1},
        wait_timeout=TIMEOUT,
    )
    result["transport"] = sio.transport()
    result["engine_sid"] = sio.eio.sid
    result["sid_main"] = sio.get_sid("/")
    result["sid_custom"] = sio.get_sid("/custom")
    result["auth_main"] = plain(inbox.take(("/", "auth")))
    result["auth_custom"] = plain(inbox.take(("/custom", "auth")))

    sio.emit("message", (1, "2", {"3": [True]}, None))
    result["echo"] = plain(inbox.take(("/", "message-back")))

    result["call_one"] = plain(sio.call("message-with-ack", "only", timeout=TIMEOUT))
    result["call_many"] = plain(sio.call("message-with-ack", (1, "two", [3]), timeout=TIMEOUT))

    sio.emit("message", (b"\x01\x02\x03", {"nested": b"\x00\xff"}, "text"))
    result["binary_echo"] = plain(inbox.take(("/", "message-back")))
    result["binary_call"] = plain(sio.call("message-with-ack", b"\x09\x08\x07", timeout=TIMEOUT))

    result["join"] = sio.call("join", "py-room", timeout=TIMEOUT)
    result["count"] = sio.call("count", timeout=TIMEOUT)

    sio.disconnect()

    # a namespace the fixture does not have is refused
    refused = socketio.Client(reconnection=False)
    connect_errors = []

    @refused.on("connect_error", namespace="/nope")
    def on_connect_error(data=None):
        connect_errors.append(data)

    try:
        # python-socketio waits wait_timeout for every namespace before giving up on one
        refused.connect(url, transports=[transport], namespaces=["/nope"], wait_timeout=0.5)
        result["unknown_namespace"] = "connected"
        refused.disconnect()
    except socketio.exceptions.ConnectionError as err:
        result["unknown_namespace"] = str(err)
    result["unknown_namespace_errors"] = plain(connect_errors)

    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
