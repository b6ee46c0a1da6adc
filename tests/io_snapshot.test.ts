// Connection snapshots: a connection snapshotted in one server is carried on in another over the
// same WebSocket (what a Durable Object does after a wake-up, and what moving sessions between
// objects will do), with socket.io-client as the peer: ids, namespaces, auth, handshake time,
// rooms and data come back, `connection` is emitted with `recovered`, the heartbeat goes on.
// Snapshots are plain data; malformed, forged and repeated ones are refused with a log line.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Manager, type Socket as ClientSocket } from "socket.io-client";
import { type ConnectionSnapshot, CoreServer as Server, type Socket } from "../server.ts";
import type { WebSocketHandlers, WebSocketLike } from "../src/engine/websocket_like.ts";
import { type Running, serve } from "./_server.ts";
import { once, until } from "./_helpers.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Stands between the runtime's WebSocket and the engine: the WebSocket's events go to whichever
 * engine `target` is, so that a session can be handed to another server mid-connection.
 */
class Relay implements WebSocketHandlers {
  socket: WebSocketLike | undefined;
  target: WebSocketHandlers;
  constructor(target: WebSocketHandlers) {
    this.target = target;
  }
  onOpen(socket: WebSocketLike): void {
    this.socket = socket;
    this.target.onOpen(socket);
  }
  onMessage(data: string | Uint8Array): void {
    this.target.onMessage(data);
  }
  onClose(code: number, reason: string): void {
    this.target.onClose(code, reason);
  }
}

/** Serves `io` with every WebSocket behind a {@linkcode Relay}. */
async function serveRelayed(io: Server): Promise<{ server: Running; relays: Relay[] }> {
  const relays: Relay[] = [];
  const server = await serve((request, options) =>
    io.handle(request, {
      ...options,
      upgrade: (req, handlers) => {
        const relay = new Relay(handlers);
        relays.push(relay);
        return options!.upgrade!(req, relay);
      },
    })
  );
  cleanups.push(() => server.close(), () => io.close());
  return { server, relays };
}

/** What a server-side socket says about itself. */
function describeSocket(socket: Socket) {
  return {
    id: socket.id,
    nsp: socket.nsp.name,
    rooms: [...socket.rooms].sort(),
    data: socket.data,
    auth: socket.handshake.auth,
    issued: socket.handshake.issued,
    recovered: socket.recovered,
  };
}

function handlers(io: Server): void {
  const onConnection = (socket: Socket) => {
    socket.on("join", (room: string, ack: (ok: boolean) => void) => {
      socket.join(room);
      ack(true);
    });
    socket.on("set", (key: string, value: unknown, ack: () => void) => {
      socket.data[key] = value;
      ack();
    });
    socket.on("whoami", (ack: (me: unknown) => void) => ack(describeSocket(socket)));
  };
  io.on("connection", onConnection);
  io.of("/chat").on("connection", onConnection);
}

function connected(socket: ClientSocket): Promise<ClientSocket> {
  return socket.connected ? Promise.resolve(socket) : once(socket, "connect").then(() => socket);
}

/** A valid snapshot, written out (the format is plain data). */
function sample(sid = "sample-session-1"): ConnectionSnapshot {
  return {
    v: 1,
    session: {
      v: 1,
      sid,
      protocol: 4,
      upgraded: false,
      request: {
        url: "http://127.0.0.1:1/socket.io/?EIO=4&transport=websocket",
        method: "GET",
        headers: { host: "127.0.0.1:1", "x-tenant": "blue" },
        address: "127.0.0.1",
        secure: false,
      },
    },
    sockets: [{ nsp: "/", id: "sample-socket-1", auth: { token: "t" }, issued: 1767225600000, rooms: ["r"], data: {} }],
  };
}

/** Runs `fn` with console.warn captured: its result and the lines logged. */
function warnings<T>(fn: () => T): { result: T; lines: string[] } {
  const lines: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  try {
    return { result: fn(), lines };
  } finally {
    console.warn = warn;
  }
}

/** A WebSocket that records what the engine does with it. */
function recorder(): WebSocketLike & { sent: Array<string | Uint8Array>; closed: number } {
  const socket = {
    sent: [] as Array<string | Uint8Array>,
    closed: 0,
    send(data: string | Uint8Array) {
      socket.sent.push(data);
    },
    close() {
      socket.closed++;
    },
  };
  return socket;
}

describe("connection snapshots", () => {
  it("carries a connection on in another server over the same WebSocket", async () => {
    const ioA = new Server({ pingInterval: 10000, pingTimeout: 5000 });
    handlers(ioA);
    const { server, relays } = await serveRelayed(ioA);
    const manager = new Manager(server.url, { transports: ["websocket"], reconnection: false, forceNew: true });
    cleanups.push(() => manager.engine?.close());
    const root = await connected(manager.socket("/", { auth: { token: "t1" } }).connect());
    const chat = await connected(manager.socket("/chat").connect());
    assert.equal(await root.timeout(2000).emitWithAck("join", "r1"), true);
    assert.equal(await root.timeout(2000).emitWithAck("join", "r2"), true);
    assert.equal(await chat.timeout(2000).emitWithAck("join", "c1"), true);
    await root.timeout(2000).emitWithAck("set", "color", "blue");
    const beforeRoot = await root.timeout(2000).emitWithAck("whoami");
    const beforeChat = await chat.timeout(2000).emitWithAck("whoami");

    // A polling session cannot be carried on (a poll in flight cannot be handed over).
    const polling = new Manager(server.url, { transports: ["polling"], reconnection: false, forceNew: true });
    cleanups.push(() => polling.engine?.close());
    await connected(polling.socket("/").connect());
    assert.equal(ioA.snapshotConnection(polling.engine.id), undefined);
    assert.equal(ioA.snapshotConnection("no-such-sid"), undefined);

    const sid = manager.engine.id;
    const snapshot = ioA.snapshotConnection(sid)!;
    assert.ok(snapshot);
    assert.deepEqual(structuredClone(snapshot), snapshot, "plain, structured-clonable data");
    assert.equal(snapshot.session.sid, sid);
    assert.deepEqual(
      snapshot.sockets.map((s) => [s.nsp, s.id, s.rooms.sort()]),
      [["/", root.id, ["r1", "r2"]], ["/chat", chat.id, ["c1"]]],
    );

    // Server B takes the connection over from the stored copy; A hears nothing more of it.
    const ioB = new Server({ pingInterval: 200, pingTimeout: 1000 });
    cleanups.push(() => ioB.close());
    handlers(ioB);
    const connections: Array<[string, boolean]> = [];
    ioB.on("connection", (s) => connections.push([s.nsp.name, s.recovered]));
    ioB.of("/chat").on("connection", (s) => connections.push([s.nsp.name, s.recovered]));
    const relay = relays.find((r) => r.socket !== undefined)!;
    const restored = ioB.restoreConnection(structuredClone(snapshot), relay.socket!);
    assert.ok(restored);
    relay.target = restored.handlers;
    assert.deepEqual(connections, [["/", true], ["/chat", true]]);
    assert.equal(ioB.engine.clientsCount, 1);

    let disconnected = false;
    root.on("disconnect", () => (disconnected = true));
    const afterRoot = await root.timeout(2000).emitWithAck("whoami");
    const afterChat = await chat.timeout(2000).emitWithAck("whoami");
    assert.deepEqual(afterRoot, { ...beforeRoot, recovered: true });
    assert.deepEqual(afterChat, { ...beforeChat, recovered: true });
    assert.deepEqual(afterRoot.data, { color: "blue" });
    assert.deepEqual(afterRoot.auth, { token: "t1" });

    // B's rooms and heartbeat reach the client.
    const news = once(chat, "news");
    ioB.of("/chat").to("c1").emit("news", "from B");
    assert.deepEqual(await news, ["from B"]);
    await once(manager.engine, "ping", 2000);
    assert.equal(disconnected, false);

    // Restoring it again while it is open is refused (a repeated or forged snapshot).
    const again = warnings(() => ioB.restoreConnection(structuredClone(snapshot), relay.socket!));
    assert.equal(again.result, undefined);
    assert.equal(again.lines.length, 1);
    assert.match(again.lines[0], /refused a session snapshot: Its session is open already/);

    // The client leaving closes B's session: nothing is left behind.
    manager.engine.close();
    await until(() => ioB.engine.clientsCount === 0 && ioB.sockets.sockets.size === 0, 3000, "B to drop it");
    assert.equal(ioB.of("/chat").adapter.rooms.size, 0);
  });

  it("refuses malformed and forged snapshots with one log line, and opens nothing", () => {
    const io = new Server({ maxNamespacesPerConnection: 2 });
    cleanups.push(() => io.close());
    type Edit = (s: ConnectionSnapshot) => unknown;
    const edits: Array<[string, Edit]> = [
      ["not an object", () => "snapshot"],
      ["null", () => null],
      ["another version", (s) => ({ ...s, v: 2 })],
      ["another session version", (s) => ({ ...s, session: { ...s.session, v: 0 } })],
      ["a sid that is not a string", (s) => ({ ...s, session: { ...s.session, sid: 42 } })],
      ["a sid with spaces", (s) => ({ ...s, session: { ...s.session, sid: "a b" } })],
      ["an unknown protocol", (s) => ({ ...s, session: { ...s.session, protocol: 5 } })],
      [
        "a URL that is not one",
        (s) => ({ ...s, session: { ...s.session, request: { ...s.session.request, url: "::" } } }),
      ],
      ["a header value that is not a string", (s) => {
        s.session.request.headers = { host: 1 } as never;
        return s;
      }],
      ["a header value with CR LF", (s) => {
        s.session.request.headers = { host: "a\r\nx-evil: 1" };
        return s;
      }],
      ["a header name that is not one", (s) => {
        s.session.request.headers = { "bad name": "x" };
        return s;
      }],
      ["sockets that are not a list", (s) => ({ ...s, sockets: "all" })],
      ["a namespace without its slash", (s) => ({ ...s, sockets: [{ ...s.sockets[0], nsp: "chat" }] })],
      ["two sockets in one namespace", (s) => ({ ...s, sockets: [s.sockets[0], { ...s.sockets[0], id: "other" }] })],
      ["more sockets than a connection may have", (s) => ({
        ...s,
        sockets: ["/", "/a", "/b"].map((nsp, i) => ({ ...s.sockets[0], nsp, id: `id${i}` })),
      })],
      ["an auth that is a list", (s) => ({ ...s, sockets: [{ ...s.sockets[0], auth: [] }] })],
      ["a handshake time that is not a number", (s) => ({ ...s, sockets: [{ ...s.sockets[0], issued: "now" }] })],
      ["rooms that are not strings", (s) => ({ ...s, sockets: [{ ...s.sockets[0], rooms: [1] }] })],
    ];
    for (const [what, edit] of edits) {
      const socket = recorder();
      const { result, lines } = warnings(() => io.restoreConnection(edit(structuredClone(sample())), socket));
      assert.equal(result, undefined, what);
      assert.equal(lines.length, 1, `${what}: one log line`);
      assert.match(lines[0], /refused a (connection|session) snapshot: [A-Z]/, what);
      assert.equal(io.engine.clientsCount, 0, `${what}: no session`);
      assert.equal(io.sockets.sockets.size, 0, `${what}: no socket`);
      assert.deepEqual([socket.sent, socket.closed], [[], 0], `${what}: the socket is the caller's to close`);
    }
  });

  it("restores into dynamic namespaces, leaves out gone ones, and pings a restored session at once", async () => {
    const io = new Server({ pingInterval: 60000, pingTimeout: 1000 });
    cleanups.push(() => io.close());
    const recovered: Array<[string, string, string[], boolean]> = [];
    const onConnection = (s: Socket) => recovered.push([s.nsp.name, s.id, [...s.rooms], s.recovered]);
    io.on("connection", onConnection);
    io.of(/^\/team-\d+$/).on("connection", onConnection);
    const snapshot = sample();
    snapshot.sockets.push(
      { nsp: "/team-7", id: "team-socket", auth: {}, issued: 1, rooms: ["x", ""], data: { n: 1 } },
      { nsp: "/gone", id: "gone-socket", auth: {}, issued: 1, rooms: [], data: {} },
    );
    const socket = recorder();
    const { result, lines } = warnings(() => io.restoreConnection(snapshot, socket));
    assert.ok(result);
    assert.deepEqual(recovered, [
      ["/", "sample-socket-1", ["sample-socket-1", "r"], true],
      ["/team-7", "team-socket", ["team-socket", "x", ""], true],
    ]);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /namespace \/gone is gone/);
    assert.equal(io.of("/team-7").sockets.get("team-socket")?.data.n, 1);
    assert.equal(result.session.request.headers.get("x-tenant"), "blue");
    // No open packet (the client has it), but a ping at once: where the heartbeat stood is unknown.
    await until(() => socket.sent.length > 0, 2000, "the first ping");
    assert.deepEqual(socket.sent, ["2"]);
    // The runtime's events go to the returned handlers: a pong, then the peer closes.
    result.handlers.onMessage("3");
    result.handlers.onMessage('42["hello"]');
    result.handlers.onClose(1000, "");
    assert.equal(io.engine.clientsCount, 0);
    assert.equal(io.sockets.sockets.size, 0);
  });
});
