/**
 * `serveClient`: the server answers `/socket.io/socket.io.js`, `socket.io.min.js` and
 * `socket.io.esm.min.js` with the embedded browser bundles (ETag, 304, gzip), the bundles work
 * (the ES module connects to the server; the classic script sets a global `io`), the option turns
 * it off, `io.attach()` on Node serves them too, and the embedded copy is the current build within
 * its size budget.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../server.ts";
import { CLIENT_BUNDLE_ESM, CLIENT_BUNDLE_GLOBAL } from "../src/io/_client_bundle.ts";
import { type Running, startServer } from "./_server.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isNode = !g.Deno && !g.Bun;

describe("serveClient", () => {
  let io: Server;
  let running: Running;

  before(async () => {
    io = new Server({ pingInterval: 300, pingTimeout: 200 });
    io.on("connection", (socket) => {
      socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
    });
    running = await startServer(io);
  });
  after(async () => {
    await running?.close();
  });

  it("serves the classic script and the ES module with caching headers", async () => {
    for (
      const [file, text] of [
        ["socket.io.js", CLIENT_BUNDLE_GLOBAL],
        ["socket.io.min.js", CLIENT_BUNDLE_GLOBAL],
        ["socket.io.esm.min.js", CLIENT_BUNDLE_ESM],
      ]
    ) {
      const response = await fetch(`${running.url}/socket.io/${file}`, { headers: { "accept-encoding": "identity" } });
      assert.equal(response.status, 200, file);
      assert.equal(response.headers.get("content-type"), "application/javascript; charset=utf-8");
      assert.equal(response.headers.get("cache-control"), "public, max-age=0");
      assert.match(response.headers.get("etag") ?? "", /^"[0-9a-f]{20}-(global|esm)"$/);
      assert.equal(response.headers.get("content-encoding"), null);
      assert.equal(await response.text(), text);
    }
  });

  it("answers 304 to a matching If-None-Match", async () => {
    const url = `${running.url}/socket.io/socket.io.js`;
    const first = await fetch(url);
    await first.arrayBuffer();
    const etag = first.headers.get("etag")!;
    const second = await fetch(url, { headers: { "if-none-match": etag } });
    assert.equal(second.status, 304);
    assert.equal(second.headers.get("etag"), etag);
    assert.equal(await second.text(), "");
    const other = await fetch(url, { headers: { "if-none-match": '"something-else"' } });
    assert.equal(other.status, 200);
    await other.arrayBuffer();
  });

  it("gzips for browsers that accept it", async () => {
    const response = await fetch(`${running.url}/socket.io/socket.io.min.js`, {
      headers: { "accept-encoding": "gzip, deflate" },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-encoding"), "gzip");
    assert.equal(response.headers.get("vary"), "Accept-Encoding");
    // fetch decodes it
    assert.equal(await response.text(), CLIENT_BUNDLE_GLOBAL);
  });

  it("leaves other paths and methods alone", async () => {
    // Under the engine path: the engine's, as socket.io's engine answers every URL there.
    const missing = await fetch(`${running.url}/socket.io/other.js`);
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), { code: 0, message: "Transport unknown" });
    const outside = await fetch(`${running.url}/socket.io.js`);
    assert.equal(outside.status, 404);
    await outside.arrayBuffer();
    const post = await fetch(`${running.url}/socket.io/socket.io.js`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    await post.arrayBuffer();
    const head = await fetch(`${running.url}/socket.io/socket.io.js`, { method: "HEAD" });
    assert.equal(head.status, 200);
  });

  it("the served ES module connects to the server", async () => {
    const text = await (await fetch(`${running.url}/socket.io/socket.io.esm.min.js`)).text();
    const mod = await import(`data:text/javascript;base64,${btoa(unescape(encodeURIComponent(text)))}`);
    assert.equal(typeof mod.io, "function");
    const socket = mod.io(running.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    try {
      const reply = await socket.timeout(3000).emitWithAck("echo", { hello: "bundle" });
      assert.deepEqual(reply, { hello: "bundle" });
    } finally {
      socket.disconnect();
    }
  });

  it("the served classic script sets a global io function", async () => {
    const text = await (await fetch(`${running.url}/socket.io/socket.io.js`)).text();
    const before = g.io;
    try {
      new Function(text)();
      assert.equal(typeof g.io, "function");
      assert.equal(typeof g.io.Manager, "function");
      assert.equal(typeof g.io.Socket, "function");
      assert.equal(g.io.connect, g.io.io);
    } finally {
      g.io = before;
    }
  });

  it("serveClient: false turns it off", async () => {
    const quiet = new Server({ serveClient: false });
    const server = await startServer(quiet);
    try {
      const response = await fetch(`${server.url}/socket.io/socket.io.js`);
      assert.equal(response.status, 400, "the engine's answer");
      await response.arrayBuffer();
    } finally {
      await server.close();
    }
  });

  if (isNode) {
    it("io.attach() on a node:http server serves it too (Node)", async () => {
      const { createServer } = await import("node:http");
      const attached = new Server();
      const http = createServer((_req, res) => res.writeHead(418).end());
      attached.attach(http);
      await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
      const port = (http.address() as { port: number }).port;
      try {
        const response = await fetch(`http://127.0.0.1:${port}/socket.io/socket.io.esm.min.js`);
        assert.equal(response.status, 200);
        assert.equal(await response.text(), CLIENT_BUNDLE_ESM);
        const other = await fetch(`http://127.0.0.1:${port}/elsewhere`);
        assert.equal(other.status, 418);
        await other.arrayBuffer();
      } finally {
        await attached.close();
        http.closeAllConnections();
        await new Promise((resolve) => http.close(resolve));
      }
    });
  }
});

describe("embedded client bundle", () => {
  it("is the current build of the client, within its size budget (else: deno task build:browser)", async () => {
    const { buildBrowser, BUDGET_GZIP_BYTES } = await import("../scripts/build_browser.ts");
    const result = await buildBrowser({ check: true, quiet: true });
    for (const [name, size] of Object.entries(result.sizes)) {
      assert.ok(size.gzip <= BUDGET_GZIP_BYTES, `${name}: ${size.gzip} bytes min+gzip > ${BUDGET_GZIP_BYTES}`);
    }
    assert.ok(result.upToDate, "src/io/_client_bundle.ts is out of date: run `deno task build:browser`");
  });
});
