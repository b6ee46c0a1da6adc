/**
 * Interop with the real `socket.io-client` 2.5.0 from npm (Socket.IO v4 over Engine.IO v3) against
 * the fixture with `--allow-eio3`: on Node (polling with `b64=1` text payloads, WebSocket, the
 * upgrade) and as its browser bundle in headless Chromium (polling with binary payloads): events,
 * acks both ways and binary, namespaces with a query, socket ids derived from the Engine.IO id, an
 * unknown namespace's error, rooms and broadcasts shared with a socket.io-client 4.8 client,
 * reconnection after a server restart; bad Engine.IO v3 input gets the v3 answers.
 *
 * Runs against ours (FIXTURE=deno|bun|node|workerd); `FIXTURE=reference` runs it against the real
 * npm socket.io 4.8 with `allowEIO3` (where it differs from socket.io 2, as noted).
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { connect as tcp } from "node:net";
import { io as ioV4 } from "socket.io-client";
import { type Fixture, FIXTURE_KIND, IS_REFERENCE, ROOT, startFixture } from "../_fixture_process.ts";
import { launchChromium } from "../_chromium.ts";
import { Server } from "../../server.ts";
import { startServer } from "../_server.ts";
import { once } from "../_helpers.ts";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const ioV2: any = require("socket.io-client-v2");
// deno-lint-ignore no-explicit-any
type AnySocket = any;

/** The ack's arguments of `socket.emit(event, ...args, ack)`. */
function call(socket: AnySocket, event: string, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`No ack for "${event}"`)), 3000);
    socket.emit(event, ...args, (...answer: unknown[]) => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

function bytesOf(value: unknown): number[] {
  assert.ok(value instanceof Uint8Array || value instanceof ArrayBuffer, `not binary: ${value}`);
  return [
    ...new Uint8Array(
      value instanceof ArrayBuffer ? value : value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength),
    ),
  ];
}

let fixture: Fixture;
const sockets: AnySocket[] = [];

/** A socket.io-client 2 socket, closed after the test. */
function client(options: Record<string, unknown> = {}, nsp = ""): AnySocket {
  const socket = ioV2(fixture.url + nsp, { forceNew: true, reconnection: false, timeout: 2000, ...options });
  sockets.push(socket);
  return socket;
}

async function connected(socket: AnySocket): Promise<void> {
  if (socket.connected) return;
  const [err] = await Promise.race([
    once(socket, "connect").then(() => [undefined]),
    once(socket, "connect_error"),
    once(socket, "error"),
  ]);
  if (err) throw new Error(`connection failed: ${err.message ?? err}`);
}

/** A raw request to the Socket.IO endpoint: status and body text. */
async function raw(query: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(`${fixture.url}/socket.io/?${query}`, init);
  return { status: response.status, text: await response.text() };
}

const V2_BUNDLE = `${ROOT}node_modules/socket.io-client-v2/dist/socket.io.js`;

describe("socket.io-client 2.5.0 interop (Engine.IO v3, Socket.IO v4)", () => {
  before(async () => {
    fixture = await startFixture({ flags: ["--allow-eio3"] });
  });
  after(async () => {
    for (const s of sockets.splice(0)) s.io.reconnection(false), s.io.disconnect();
    await fixture?.close();
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.io.disconnect();
  });

  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
    it(`over ${transports.join(" + ")}: events and acks both ways with binary, namespaces, ids`, async () => {
      const socket = client({ transports });
      const auth = once(socket, "auth");
      await connected(socket);
      assert.deepEqual((await auth)[0], {}, "no CONNECT payload in v4: an empty auth");
      assert.equal(socket.id, socket.io.engine.id);

      const back = once(socket, "message-back");
      socket.emit("message", "hi", Buffer.from([1, 2, 3]), { nested: [Buffer.from([4])] });
      const [text, bytes, nested] = await back;
      assert.equal(text, "hi");
      assert.deepEqual(bytesOf(bytes), [1, 2, 3]);
      assert.deepEqual(bytesOf(nested.nested[0]), [4]);

      const [a, b] = await call(socket, "message-with-ack", "a", Buffer.from([7, 8]));
      assert.equal(a, "a");
      assert.deepEqual(bytesOf(b), [7, 8]);

      socket.once("question", (q: string, ack: (answer: unknown) => void) => ack({ q, file: Buffer.from([9]) }));
      const answer = once(socket, "answer");
      socket.emit("ask", "why?");
      const [reply] = await answer;
      assert.equal(reply.q, "why?");
      assert.deepEqual(bytesOf(reply.file), [9]);

      // the server's id for the socket is the one the client derives: its own room reaches it
      const self = once(socket, "room-back");
      socket.emit("to-room", socket.id, "to myself");
      assert.deepEqual(await self, ["to myself"]);

      const custom = socket.io.socket("/custom", { query: { token: "abc" } });
      const [customAuth] = await once(custom, "auth");
      assert.deepEqual(customAuth, { token: "abc" }, "the namespace's query is its auth");
      assert.equal(custom.id, "/custom#" + socket.io.engine.id);

      if (transports.length === 2) {
        if (socket.io.engine.transport.name !== "websocket") await once(socket.io.engine, "upgrade");
        const [after] = await call(socket, "message-with-ack", "upgraded");
        assert.equal(after, "upgraded");
      }
    });
  }

  it("keeps sessions whose client pings (v3's heartbeat direction) over several ping intervals", async () => {
    const polling = client({ transports: ["polling"] });
    const websocket = client({ transports: ["websocket"] });
    await Promise.all([connected(polling), connected(websocket)]);
    const ids = [polling.id, websocket.id];
    // pingInterval 300, pingTimeout 200: three answered pings outlive a session nobody pings
    await Promise.all([polling, websocket].map((socket) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${socket.io.engine?.transport?.name}: no third pong`)), 3000);
        let pongs = 0;
        socket.io.on("pong", () => {
          if (++pongs === 3) {
            clearTimeout(timer);
            resolve();
          }
        });
      })
    ));
    assert.deepEqual([polling.id, websocket.id], ids);
    assert.ok(polling.connected && websocket.connected);
    assert.deepEqual(await call(websocket, "message-with-ack", "alive"), ["alive"]);
  });

  it("gets the v4 error for an unknown namespace", async () => {
    const root = client();
    await connected(root);
    const nope = root.io.socket("/nope");
    const [err] = await once(nope, "error");
    // socket.io 2 sends the message as a string; socket.io 4's allowEIO3 an object
    assert.deepEqual(err, IS_REFERENCE ? { message: "Invalid namespace" } : "Invalid namespace");
  });

  it("gets a middleware's refusal as the error's data, else its message (a server of the test's runtime)", async () => {
    const io = new Server({ pingInterval: 300, pingTimeout: 200, allowEIO3: true });
    io.of("/private").use((socket, next) => {
      const token = socket.handshake.auth.token;
      if (token === "ok") return next();
      const err = new Error("not authorized") as Error & { data?: unknown };
      if (token === "data") err.data = { reason: "bad token" };
      next(err);
    });
    io.of("/private").on("connection", (socket) => socket.emit("welcome", socket.handshake.auth));
    const server = await startServer(io);
    try {
      const join = (token: string) => {
        const root = ioV2(server.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
        sockets.push(root);
        return root.io.socket("/private", { query: { token } });
      };
      assert.deepEqual(await once(join("bad"), "error"), ["not authorized"]);
      assert.deepEqual(await once(join("data"), "error"), [{ reason: "bad token" }]);
      assert.deepEqual(await once(join("ok"), "welcome"), [{ token: "ok" }]);
    } finally {
      for (const s of sockets.splice(0)) s.io.disconnect();
      await server.close();
    }
  });

  it("shares rooms and broadcasts with a socket.io-client 4.8 client, binary included", async () => {
    const polling = client({ transports: ["polling"] });
    const websocket = client({ transports: ["websocket"] });
    const v4 = ioV4(fixture.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    sockets.push(v4);
    await Promise.all([connected(polling), connected(websocket), connected(v4)]);
    for (const s of [polling, websocket, v4]) assert.deepEqual(await call(s, "join", "mixed"), [true]);
    const received = Promise.all([polling, websocket, v4].map((s) => once(s, "room-back")));
    v4.emit("to-room", "mixed", "to all", Buffer.from([1, 2]));
    for (const [text, bytes] of await received) {
      assert.equal(text, "to all");
      assert.deepEqual(bytesOf(bytes), [1, 2]);
    }
    const everyone = Promise.all([polling, websocket, v4].map((s) => once(s, "broadcast-back")));
    polling.emit("broadcast", "from v2", Buffer.from([3]));
    for (const [text, bytes] of await everyone) {
      assert.equal(text, "from v2");
      assert.deepEqual(bytesOf(bytes), [3]);
    }
  });

  it("answers bad Engine.IO v3 input with the v3 errors", async () => {
    const error = (code: number, message: string) => ({ status: 400, text: JSON.stringify({ code, message }) });
    assert.deepEqual(await raw("EIO=3&transport=polling&sid=nope"), error(1, "Session ID unknown"));
    // Engine.IO v2 (socket.io 0.9) is not served: socket.io takes any EIO but 4 for 3
    if (!IS_REFERENCE) assert.deepEqual(await raw("EIO=2&transport=polling"), error(5, "Unsupported protocol version"));
    assert.deepEqual(await raw("EIO=3&transport=pigeon"), error(0, "Transport unknown"));
    assert.deepEqual(
      await raw("EIO=3&transport=polling", { method: "POST", body: "2:40" }),
      error(2, "Bad handshake method"),
    );

    // the v3 handshake: a length-prefixed payload, an open packet without maxPayload
    const open = await raw("EIO=3&transport=polling&b64=1");
    assert.equal(open.status, 200);
    const match = /^(\d+):0(\{.*?\})/.exec(open.text);
    assert.ok(match, open.text);
    const handshake = JSON.parse(match[2]);
    assert.deepEqual(handshake.upgrades, ["websocket"]);
    assert.deepEqual([handshake.pingInterval, handshake.pingTimeout], [300, 200]);
    if (!IS_REFERENCE) assert.equal(handshake.maxPayload, undefined); // socket.io 4 sends it to v3 too
    const sid = handshake.sid;
    // a v4 request for a v3 session
    assert.deepEqual(await raw(`EIO=4&transport=polling&sid=${sid}`), error(3, "Bad request"));
    // a malformed payload closes the session
    await raw(`EIO=3&transport=polling&sid=${sid}`, { method: "POST", body: "5:4a" });
    assert.deepEqual(await raw(`EIO=3&transport=polling&sid=${sid}`), error(1, "Session ID unknown"));

    // a pong from a v3 client (the client pings in v3) closes the session
    const second = JSON.parse(/0(\{.*?\})/.exec((await raw("EIO=3&transport=polling&b64=1")).text)![1]).sid;
    await raw(`EIO=3&transport=polling&sid=${second}`, { method: "POST", body: "1:3" });
    assert.deepEqual(await raw(`EIO=3&transport=polling&sid=${second}`), error(1, "Session ID unknown"));

    // a v3 session that does not ping is closed after pingInterval + pingTimeout
    const third = JSON.parse(/0(\{.*?\})/.exec((await raw("EIO=3&transport=polling&b64=1")).text)![1]).sid;
    const started = Date.now();
    let poll = await raw(`EIO=3&transport=polling&sid=${third}`);
    while (poll.status === 200 && Date.now() - started < 3000) poll = await raw(`EIO=3&transport=polling&sid=${third}`);
    assert.deepEqual(poll, error(1, "Session ID unknown"));
    assert.ok(Date.now() - started >= 400, `closed after ${Date.now() - started} ms`);
  });

  it("serves JSONP polling (clients without XHR): script answers, form posts with escaped newlines", async () => {
    const script = (text: string) => {
      const m = /^___eio\[7\]\((".*")\);$/s.exec(text);
      assert.ok(m, text);
      return JSON.parse(m[1]) as string;
    };
    const open = await raw("EIO=3&transport=polling&j=7");
    const handshake = /^\d+:0(\{.*?\})/.exec(script(open.text));
    assert.ok(handshake, open.text);
    const url = `EIO=3&transport=polling&j=7&sid=${JSON.parse(handshake[1]).sid}`;
    // socket.io-client 2's form encoding: `\n` escaped to `\\n` first, then newlines to `\n`
    // each with a ping: in v3 the client pings, or the session ends after pingInterval + pingTimeout
    const form = (payload: string) => ({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "d=" + encodeURIComponent(("1:2" + payload).replace(/\\n/g, "\\\n").replace(/\n/g, "\\n")),
    });
    const event = JSON.stringify(["message", "a\nb", "c\\nd"]); // a newline, and a backslash + n
    assert.equal((await raw(url, form(`${event.length + 2}:42${event}`))).text, "ok");
    let got = "";
    for (let i = 0; i < 5 && !got.includes("message-back"); i++) got += script((await raw(url)).text);
    assert.ok(got.includes(JSON.stringify(["message-back", "a\nb", "c\\nd"])), got);
    // Forms submitted before the previous answer came are taken in order (ours; socket.io closes
    // the session on such an overlap). Not through workerd's front (Miniflare): it answers a
    // request whose body comes slowly only seconds later, and the session's ping timeout is 500 ms.
    if (!IS_REFERENCE && !FIXTURE_KIND.startsWith("workerd")) {
      const frame = (n: number) => `42["message",${n}]`;
      const body = (n: number) => form(`${frame(n).length}:${frame(n)}`).body;
      // the first form's body comes in two parts, the second form in between
      const first = body(1);
      const socket = tcp({ host: "127.0.0.1", port: fixture.port });
      let answer = "";
      socket.on("data", (chunk) => (answer += chunk));
      const firstDone = new Promise((resolve) => socket.on("close", resolve));
      socket.write(
        `POST /socket.io/?${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${first.length}\r\n\r\n` +
          first.slice(0, 5),
      );
      await new Promise((resolve) => setTimeout(resolve, 50)); // the first one is being read
      const second = raw(url, form(`${frame(2).length}:${frame(2)}`));
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.write(first.slice(5)); // the server closes the connection after its answer
      await firstDone;
      assert.match(answer, /^HTTP\/1\.1 200[\s\S]*ok$/);
      assert.equal((await second).text, "ok");
      const third = await raw(url, form(`${frame(3).length}:${frame(3)}`));
      assert.equal(third.text, "ok");
      got = "";
      for (let i = 0; i < 5 && !got.includes('message-back",3'); i++) got += script((await raw(url)).text);
      assert.deepEqual([...got.matchAll(/message-back",(\d)/g)].map((m) => m[1]), ["1", "2", "3"]);
    }
  });

  it("runs its browser bundle in Chromium: binary payloads over polling, WebSocket, the upgrade", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(fixture.url + "/fixture/page"); // any page of the fixture's origin (a 404)
      await page.addScriptTag({ path: V2_BUNDLE });
      for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
        const result = await page.evaluate(async (transports: string[]) => {
          // deno-lint-ignore no-explicit-any
          const io = (globalThis as any).io;
          const socket = io({ forceNew: true, reconnection: false, transports });
          // Why a socket went away, for the failure message (a late answer and a lost session differ).
          let gone = "";
          socket.on("disconnect", (reason: string) => gone = reason);
          /** Resolves with what `start` passes on, or fails after 3 s (a page never hangs the test). */
          const within = <T>(what: string, start: (resolve: (value: T) => void) => void) =>
            new Promise<T>((resolve, reject) => {
              const state = () => gone ? `disconnected: ${gone}` : `connected: ${socket.connected}`;
              setTimeout(() => reject(new Error(`${what} over ${transports}: nothing within 3 s (${state()})`)), 3000);
              start(resolve);
            });
          const next = (s: typeof socket, event: string) =>
            within<unknown[]>(event, (resolve) => s.once(event, (...args: unknown[]) => resolve(args)));
          const [auth] = await next(socket, "auth");
          const back = next(socket, "message-back");
          // socket.io-client 2 takes ArrayBuffer, Blob and File as binary in browsers (not typed arrays)
          socket.emit("message", "hi", new Uint8Array([1, 2, 3]).buffer);
          const [text, bin] = await back;
          const ack = await within<unknown[]>(
            "ack",
            (resolve) =>
              socket.emit(
                "message-with-ack",
                { b: new Uint8Array([4, 5]).buffer },
                (...args: unknown[]) => resolve(args),
              ),
          );
          const custom = socket.io.socket("/custom", { query: { from: "browser" } });
          const [customAuth] = await next(custom, "auth");
          if (transports.length === 2 && socket.io.engine.transport.name !== "websocket") {
            await within("upgrade", (resolve) => socket.io.engine.once("upgrade", resolve));
          }
          const out = {
            auth,
            text,
            bin: [...new Uint8Array(bin as ArrayBuffer)],
            // deno-lint-ignore no-explicit-any
            ack: [...new Uint8Array((ack[0] as any).b)],
            customAuth,
            binaryPolling: socket.io.engine.transport.supportsBinary,
            transport: socket.io.engine.transport.name,
          };
          socket.io.disconnect();
          return out;
        }, transports);
        assert.deepEqual(result, {
          auth: {},
          text: "hi",
          bin: [1, 2, 3],
          ack: [4, 5],
          customAuth: { from: "browser" },
          binaryPolling: true,
          transport: transports.length === 1 ? transports[0] : "websocket",
        });
      }
    } finally {
      await browser.close();
    }
  });

  it("reconnects after the server restarts on the same port", async () => {
    const socket = client({
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 200,
      randomizationFactor: 0,
    });
    await connected(socket);
    const reconnected = once(socket, "reconnect", 15000);
    const port = fixture.port;
    await fixture.close();
    fixture = await startFixture({ port, flags: ["--allow-eio3"] });
    await reconnected;
    const [echo] = await call(socket, "message-with-ack", "after restart");
    assert.equal(echo, "after restart");
  });
});
