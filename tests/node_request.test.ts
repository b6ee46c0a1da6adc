// The Node shim hands the engine an EngineRequest that reads the Node request directly
// (NodeEngineRequest): the engine's headers and body come from the IncomingMessage, and a user's hook
// gets a real Request (headers, body, clone, abort signal). Node only.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { until } from "./conformance/_helpers.ts";
import type { Engine } from "../src/engine/server.ts";
import type { EngineRequest, Handle } from "../src/engine/exchange.ts";

const isNode = !(globalThis as { Deno?: unknown }).Deno && !(globalThis as { Bun?: unknown }).Bun;

interface Started {
  base: string;
  close(): Promise<void>;
  seen: EngineRequest[];
}

/** Serves `engine` (through `handle`, by default straight to it) on a Node server of a free port. */
async function serveEngine(
  engine: Engine,
  handle: Handle = (request, options) => engine.handle(request, options),
): Promise<{ base: string; close(): Promise<void> }> {
  const { createServer } = await import("node:http");
  const { attachToNodeServer } = await import("../src/runtime/node.ts");
  const server = createServer();
  attachToNodeServer(server, handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    base: `http://127.0.0.1:${port}/engine.io/?EIO=4&transport=polling`,
    close: async () => {
      await engine.close(100);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A bare engine on a Node server; `allowRequest` (optional) sees every handshake request. */
async function start(
  allowRequest?: (request: Request) => Promise<boolean> | boolean,
  maxHttpBufferSize = 1000,
  before?: (request: EngineRequest) => void,
): Promise<Started> {
  const { Engine } = await import("../src/engine/server.ts");
  const engine = new Engine({
    maxHttpBufferSize,
    ...(allowRequest ? { allowRequest: (req: Request) => allowRequest(req) } : {}),
  });
  const seen: EngineRequest[] = [];
  engine.on(
    "connection",
    (socket) => socket.on("message", (m) => socket.send(`echo:${typeof m === "string" ? m : "binary"}`)),
  );
  const served = await serveEngine(engine, (request, options) => {
    seen.push(request);
    before?.(request);
    return engine.handle(request, options);
  });
  return { ...served, seen };
}

async function handshake(base: string, headers?: HeadersInit): Promise<string> {
  const res = await fetch(base, { headers });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text.slice(1)).sid;
}

if (isNode) {
  describe("Node: the request handed to the engine", () => {
    it("hands hooks a real Request whose members answer as the Node request's", async () => {
      let checked: Promise<void> | undefined;
      const server = await start((request) => {
        checked = (async () => {
          assert.ok(request instanceof Request);
          assert.equal(request.method, "GET");
          assert.match(request.url, /^http:\/\/127\.0\.0\.1:\d+\/engine\.io\/\?EIO=4&transport=polling$/);
          assert.equal(request.headers.get("x-token"), "a, b");
          assert.equal(request.headers.get("X-Other"), "1");
          assert.equal(request.clone().headers.get("x-other"), "1");
          assert.equal(request.signal.aborted, false);
          assert.equal(request.bodyUsed, false);
          assert.equal(await request.text(), "");
          assert.equal(Object.prototype.toString.call(request), "[object Request]");
        })();
        return true;
      });
      try {
        const headers = new Headers([["x-token", "a"], ["x-token", "b"], ["x-other", "1"]]);
        await handshake(server.base, headers);
        await checked;
      } finally {
        await server.close();
      }
    });

    it("keeps the headers of the handshake as the session's, repeated ones joined", async () => {
      const { Engine } = await import("../src/engine/server.ts");
      const engine = new Engine({});
      const served = await serveEngine(engine);
      const port = Number(new URL(served.base).port);
      try {
        const opened = new Promise<{ headers: Headers; record: Record<string, string> }>((resolve) =>
          engine.once("connection", (socket) => {
            const request = socket.request as unknown as { headers: Headers; headerRecord: Record<string, string> };
            resolve({ headers: request.headers, record: request.headerRecord });
          })
        );
        // Raw headers, so that the repeated and odd names reach the server as written.
        const { connect } = await import("node:net");
        const conn = connect(port, "127.0.0.1");
        conn.write(
          "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Multi: 1\r\nx-multi: 2\r\n" +
            "Cookie: a=1\r\nCookie: b=2\r\n__proto__: p\r\nConnection: close\r\n\r\n",
        );
        const { headers, record } = await opened;
        conn.destroy();
        assert.equal(record["x-multi"], "1, 2");
        // Repeated cookies are one cookie string, as Node's req.headers and undici give them.
        assert.equal(record.cookie, "a=1; b=2");
        assert.equal(headers.get("x-multi"), "1, 2");
        assert.equal(Object.getPrototypeOf(record), Object.prototype);
        assert.ok(Object.hasOwn(record, "__proto__"));
        assert.equal(record["__proto__" as string], "p");
        assert.equal(record.host, "x");
      } finally {
        await served.close();
      }
    });

    it("hands hooks a real Request, and headers a hook sets are the session's", async () => {
      const { Engine } = await import("../src/engine/server.ts");
      const seen: string[] = [];
      const engine = new Engine({
        allowRequest: (request) => {
          // undici reads a Request's internals: a stand-in would throw here.
          const copy = new Request(request);
          seen.push(`allowRequest ${copy.headers.get("x-in")}`);
          request.headers.set("x-added", "by allowRequest");
          return true;
        },
        onHeaders: (_headers, request) => seen.push(`onHeaders ${new Request(request).method}`),
        generateId: (request) => {
          seen.push(`generateId ${new Request(request).url.includes("transport=polling")}`);
          return crypto.randomUUID();
        },
      });
      const served = await serveEngine(engine);
      try {
        const opened = new Promise<Headers>((resolve) =>
          engine.once("connection", (socket) => resolve(socket.request.headers))
        );
        await handshake(served.base, { "x-in": "1" });
        const headers = await opened;
        assert.deepEqual(seen, ["onHeaders GET", "allowRequest 1", "generateId true"]);
        assert.equal(headers.get("x-added"), "by allowRequest");
        assert.equal(headers.get("x-in"), "1");
      } finally {
        await served.close();
      }
    });

    it("closes the session of a POST whose client left before the engine read its body", async () => {
      // A handler that awaits before handing the request on (here: until the client is gone)
      // used to leave the body read waiting for ever: the session stayed in its POST.
      const { Engine } = await import("../src/engine/server.ts");
      const engine = new Engine({ pingInterval: 20000, pingTimeout: 20000 });
      let postArrived!: () => void;
      const arrived = new Promise<void>((resolve) => postArrived = resolve);
      const served = await serveEngine(engine, async (request, options) => {
        if (request.method === "POST") {
          postArrived();
          await new Promise<void>((resolve) => request.onAbort(resolve));
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return engine.handle(request, options);
      });
      try {
        const base = served.base;
        const sid = await handshake(base);
        const closed = new Promise<string>((resolve) =>
          engine.clients.get(sid)!.once("close", (reason) => resolve(reason))
        );
        const controller = new AbortController();
        const post = fetch(`${base}&sid=${sid}`, { method: "POST", body: "4hello", signal: controller.signal }).catch(
          () => undefined,
        );
        await arrived;
        controller.abort();
        await post;
        assert.equal(await closed, "transport error");
        assert.equal(engine.clientsCount, 0);
      } finally {
        await served.close();
      }
    });

    it("reads POST bodies, also after a user's code made the real Request", async () => {
      let touched = 0;
      const server = await start(undefined, 1000, (request) => {
        if (request.method === "POST" && request.toRequest().headers.get("x-touch") === "1") touched++;
      });
      try {
        const sid = await handshake(server.base);
        const url = `${server.base}&sid=${sid}`;
        const post = await fetch(url, { method: "POST", body: "4hello\x1e4é中😀" });
        assert.equal(post.status, 200);
        assert.equal(await post.text(), "ok");
        assert.equal(await (await fetch(url)).text(), "4echo:hello\x1e4echo:é中😀");
        // This request's real Request was made (its headers read) before the engine read the body.
        const body = "4" + "x".repeat(600);
        const res = await fetch(url, { method: "POST", body, headers: { "x-touch": "1" } });
        assert.equal(res.status, 200);
        assert.equal(touched, 1);
        assert.equal(await (await fetch(url)).text(), "4echo:" + "x".repeat(600));
      } finally {
        await server.close();
      }
    });

    it("answers 413 to a chunked body over maxHttpBufferSize and the session stays usable", async () => {
      const server = await start(undefined, 100);
      try {
        const sid = await handshake(server.base);
        const url = `${server.base}&sid=${sid}`;
        // No content-length: the limit is found while reading.
        const big = new ReadableStream<Uint8Array>({
          start(c) {
            for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode("4" + "y".repeat(60)));
            c.close();
          },
        });
        const res = await fetch(url, { method: "POST", body: big, duplex: "half" } as RequestInit);
        assert.equal(res.status, 413);
        await res.text();
        const ok = await fetch(url, { method: "POST", body: "4small" });
        assert.equal(ok.status, 200);
        assert.equal(await (await fetch(url)).text(), "4echo:small");
      } finally {
        await server.close();
      }
    });

    it("answers 413 to a declared length over maxHttpBufferSize before the body, and lets the client send it", async () => {
      // A client that writes its whole body before reading (most do) must not find the connection
      // closed under it: the server answers at once, drops the body as it comes, and the same
      // connection carries the next request (engine.io answers 413 without closing, too).
      const server = await start(undefined, 1000);
      const { connect } = await import("node:net");
      const { port, pathname, search } = new URL(server.base);
      const sid = await handshake(server.base);
      const target = `${pathname}${search}&sid=${sid}`;
      const socket = connect(Number(port), "127.0.0.1");
      try {
        await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
        let received = "";
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => received += chunk);
        let failure: Error | undefined;
        socket.on("error", (err) => failure = err);
        const write = (text: string) =>
          new Promise<void>((resolve, reject) => socket.write(text, (err) => err ? reject(err) : resolve()));
        const body = "4" + "x".repeat(5000);
        await write(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`);
        await until(() => received.includes("\r\n\r\n"), 3000, "the 413 before the body");
        assert.match(received, /^HTTP\/1\.1 413 /);
        for (let i = 0; i < body.length; i += 1000) {
          await write(body.slice(i, i + 1000));
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        received = "";
        await write(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 6\r\n\r\n4small`);
        await until(() => received.includes("\r\n\r\n") || failure !== undefined, 3000, "the next answer");
        assert.equal(failure, undefined);
        assert.match(received, /^HTTP\/1\.1 200 /);
        assert.equal(await (await fetch(`${server.base}&sid=${sid}`)).text(), "4echo:small");
      } finally {
        socket.destroy();
        await server.close();
      }
    });

    it("tells when the client of a GET goes away, and aborts its web Request's signal", async () => {
      const server = await start();
      try {
        const sid = await handshake(server.base);
        const controller = new AbortController();
        const seen = server.seen.length;
        const poll = fetch(`${server.base}&sid=${sid}`, { signal: controller.signal }).catch(() => undefined);
        await until(() => server.seen.length > seen, 3000, "the GET to arrive");
        const request = server.seen[seen];
        let told = false;
        request.onAbort(() => told = true);
        const signal = request.toRequest().signal;
        assert.equal(signal.aborted, false);
        controller.abort();
        await poll;
        await until(() => told && signal.aborted, 2000, "the abort to be told");
        // Watching after the client left tells at once.
        await new Promise<void>((resolve) => request.onAbort(resolve));
      } finally {
        await server.close();
      }
    });
  });

  describe("Node: requests whose Host header does not make a URL", () => {
    /** Sends `head` (request line and headers) over a raw connection; the status line back. */
    async function raw(port: number, head: string): Promise<string> {
      const { connect } = await import("node:net");
      return await new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => socket.write(head + "\r\n"));
        let text = "";
        socket.on("data", (chunk) => {
          text += chunk.toString("latin1");
          if (text.includes("\r\n")) {
            socket.destroy();
            resolve(text.split("\r\n")[0]);
          }
        });
        socket.on("error", reject);
        socket.on("close", () => resolve(text.split("\r\n")[0]));
      });
    }

    it("gets 400 (requests and upgrades) and the server keeps serving", async () => {
      const { createServer } = await import("node:http");
      const { Server } = await import("../server.ts");
      const io = new Server();
      const server = createServer();
      io.attach(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      try {
        // `new URL` of "http://a b/socket.io/..." throws: it used to throw out of the request
        // listener and end the process.
        const path = "/socket.io/?EIO=4&transport=polling";
        assert.equal(await raw(port, `GET ${path} HTTP/1.1\r\nHost: a b\r\n`), "HTTP/1.1 400 Bad Request");
        assert.equal(
          await raw(port, `GET /socket.io/socket.io.js HTTP/1.1\r\nHost: a b\r\n`),
          "HTTP/1.1 400 Bad Request",
        );
        const upgrade = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a b\r\nConnection: Upgrade\r\n" +
          "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        assert.equal(await raw(port, upgrade), "HTTP/1.1 400 Bad Request");
        await handshake(`http://127.0.0.1:${port}${path}`);
      } finally {
        await io.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
}
