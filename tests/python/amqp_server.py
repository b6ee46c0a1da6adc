"""A python-socketio server on KombuManager (AMQP), for tests/python_amqp.test.ts: Debian's
python-socketio Server in threading mode on wsgiref (long-polling only: no WebSocket here).

    /usr/bin/python3 tests/python/amqp_server.py PORT AMQP_URL     (PORT 0 picks a free port)

Prints `listening on http://127.0.0.1:PORT` once the manager listens; exits on SIGTERM.
"""
import os
import signal
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import socketio

port = int(sys.argv[1])
sio = socketio.Server(
    async_mode="threading",
    client_manager=socketio.KombuManager(sys.argv[2], channel="socketio"),
    cors_allowed_origins="*",
)


@sio.on("broadcast")
def broadcast(sid, *args):
    sio.emit("broadcast-back", args)


@sio.on("ask")
def ask(sid, target, question):
    return sio.call("question", question, to=target, timeout=5)


@sio.on("kick")
def kick(sid, target):
    sio.disconnect(target)
    return True


class Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


httpd = make_server("127.0.0.1", port, socketio.WSGIApp(sio), server_class=Server, handler_class=QuietHandler)
# python-socketio starts listening at its first connection; start now
sio.manager_initialized = True
sio.manager.initialize()
print(f"listening on http://127.0.0.1:{httpd.server_port}", flush=True)
# the manager's listener thread would keep the process alive: leave at once
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
httpd.serve_forever()
