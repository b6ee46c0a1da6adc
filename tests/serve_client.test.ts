/**
 * `serveClient`: the server answers socket.io's file names (`socket.io.js`, `socket.io.min.js`,
 * `socket.io.msgpack.min.js`, `socket.io.esm.min.js` and the `.map` of each) with the embedded
 * browser bundles and their source maps: ETags and 304, brotli, gzip or deflate by
 * `Accept-Encoding` (read off the wire), the `cors` headers; the bundles work (the ES module
 * connects to the server; the classic scripts set a global `io`, the msgpack one speaking msgpack),
 * the option turns it off, `io.attach()` on Node serves them too, and the embedded copy is the
 * current build within its size budget, maps included.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../server.ts";
import { msgpackParser } from "../src/parser/msgpack.ts";
import { CLIENT_BUNDLE_ESM, CLIENT_BUNDLE_GLOBAL, CLIENT_BUNDLE_MSGPACK } from "../src/io/_client_bundle.ts";
import { clientFileBytes } from "../src/io/_client_files.ts";
import { type Running, startServer } from "./_server.ts";
import { decodedText, raw } from "./_raw_http.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isNode = !g.Deno && !g.Bun;

const FILES: [string, string, "global" | "esm" | "msgpack"][] = [
  ["socket.io.js", CLIENT_BUNDLE_GLOBAL, "global"],
  ["socket.io.min.js", CLIENT_BUNDLE_GLOBAL, "global"],
  ["socket.io.esm.min.js", CLIENT_BUNDLE_ESM, "esm"],
  ["socket.io.msgpack.min.js", CLIENT_BUNDLE_MSGPACK, "msgpack"],
];

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

  it("serves the bundles and their source maps under socket.io's names, with caching headers", async () => {
    for (const [file, text, kind] of FILES) {
      const script = await raw(`${running.url}/socket.io/${file}`);
      assert.equal(script.status, 200, file);
      assert.equal(script.headers["content-type"], "application/javascript; charset=utf-8");
      assert.equal(script.headers["cache-control"], "public, max-age=0");
      assert.equal(script.headers["vary"], "Accept-Encoding");
      assert.match(String(script.headers["etag"]), new RegExp(`^"[0-9a-f]{20}-${kind}"$`));
      assert.equal(script.headers["content-encoding"], undefined);
      assert.equal(script.headers["access-control-allow-origin"], undefined, "no cors option: no CORS headers");
      assert.equal(decodedText(script), text);
      // The bundle names its map, which is there.
      const mapName = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)![1];
      assert.equal(mapName, file === "socket.io.js" ? "socket.io.min.js.map" : `${file}.map`);
      for (const name of new Set([`${file}.map`, mapName])) {
        const map = await raw(`${running.url}/socket.io/${name}`);
        assert.equal(map.status, 200, name);
        assert.equal(map.headers["content-type"], "application/json; charset=utf-8");
        assert.match(String(map.headers["etag"]), new RegExp(`^"[0-9a-f]{20}-${kind}-map"$`));
        const json = JSON.parse(decodedText(map));
        assert.equal(json.version, 3);
        assert.ok(json.sources.includes("src/client/manager.ts"), name);
        assert.equal(json.sources.includes("src/parser/msgpack.ts"), kind === "msgpack", name);
        assert.equal(json.sourcesContent.length, json.sources.length);
        assert.match(json.sourcesContent[json.sources.indexOf("src/client/manager.ts")], /export class Manager/);
      }
    }
  });

  it("compresses by Accept-Encoding: brotli, gzip or deflate, as the request prefers", async () => {
    for (
      const [accept, coding] of [
        ["gzip, deflate, br, zstd", "gzip"], // a browser's: equal quality, its order decides
        ["br", "br"],
        ["br;q=1, gzip;q=0.8", "br"],
        ["deflate", "deflate"],
        ["gzip;q=0, deflate;q=0.5, br;q=0.1", "deflate"],
        ["identity", undefined],
        ["zstd", undefined],
      ] as const
    ) {
      for (const [file, text] of [FILES[1], FILES[3], ["socket.io.esm.min.js.map", undefined] as const]) {
        const answer = await raw(`${running.url}/socket.io/${file}`, { "accept-encoding": accept });
        assert.equal(answer.status, 200);
        assert.equal(answer.headers["content-encoding"], coding, `${file}, Accept-Encoding: ${accept}`);
        assert.equal(Number(answer.headers["content-length"]), answer.body.byteLength);
        const body = decodedText(answer);
        if (text !== undefined) assert.equal(body, text);
        else assert.equal(JSON.parse(body).version, 3);
        if (coding !== undefined) assert.ok(answer.body.byteLength < new TextEncoder().encode(body).length / 2);
        const tag = String(answer.headers["etag"]);
        assert.match(tag, coding === undefined ? /-(global|esm|msgpack)(-map)?"$/ : new RegExp(`-${coding}"$`));
      }
    }
  });

  it("answers 304 to a matching If-None-Match, whichever representation it names", async () => {
    const url = `${running.url}/socket.io/socket.io.min.js`;
    const tags: string[] = [];
    for (const accept of ["identity", "gzip", "br", "deflate"]) {
      tags.push(String((await raw(url, { "accept-encoding": accept })).headers["etag"]));
    }
    assert.equal(new Set(tags).size, 4, "one ETag per representation");
    for (const tag of [...tags, `W/${tags[1]}`, `"other", ${tags[2]}`, "*"]) {
      const again = await raw(url, { "if-none-match": tag, "accept-encoding": "gzip" });
      assert.equal(again.status, 304, tag);
      assert.equal(again.headers["etag"], tags[1]);
      assert.equal(again.body.byteLength, 0);
    }
    const other = await raw(url, { "if-none-match": '"something-else"' });
    assert.equal(other.status, 200);
    const map = await raw(`${url}.map`, { "if-none-match": tags[0] });
    assert.equal(map.status, 200, "the script's ETag is not the map's");
  });

  it("sends the cors option's headers with the files, and answers their preflight", async () => {
    const withCors = new Server({ cors: { origin: ["https://app.example"], credentials: true } });
    const server = await startServer(withCors);
    try {
      const origin = { origin: "https://app.example" };
      for (const file of ["socket.io.min.js", "socket.io.msgpack.min.js.map"]) {
        const answer = await raw(`${server.url}/socket.io/${file}`, origin);
        assert.equal(answer.status, 200);
        assert.equal(answer.headers["access-control-allow-origin"], "https://app.example");
        assert.equal(answer.headers["access-control-allow-credentials"], "true");
        assert.equal(answer.headers["vary"], "Origin, Accept-Encoding");
        const cached = await raw(`${server.url}/socket.io/${file}`, {
          ...origin,
          "if-none-match": String(answer.headers["etag"]),
        });
        assert.equal(cached.status, 304);
        assert.equal(cached.headers["access-control-allow-origin"], "https://app.example");
      }
      const preflight = await raw(`${server.url}/socket.io/socket.io.esm.min.js`, {
        ...origin,
        "access-control-request-method": "GET",
      }, "OPTIONS");
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers["access-control-allow-origin"], "https://app.example");
      assert.match(String(preflight.headers["access-control-allow-methods"]), /GET/);
      const stranger = await raw(`${server.url}/socket.io/socket.io.min.js`, { origin: "https://evil.example" });
      assert.equal(stranger.status, 200);
      assert.equal(stranger.headers["access-control-allow-origin"], undefined);
    } finally {
      await server.close();
    }
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

  it("the served msgpack script sets a global io that speaks msgpack to a msgpack server", async () => {
    const msgpackIo = new Server({ parser: msgpackParser });
    msgpackIo.on("connection", (socket) => {
      socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
    });
    const server = await startServer(msgpackIo);
    const text = decodedText(await raw(`${server.url}/socket.io/socket.io.msgpack.min.js`));
    const before = g.io;
    try {
      new Function(text)();
      const socket = g.io(server.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
      try {
        const reply = await socket.timeout(3000).emitWithAck("echo", { n: 1, bytes: new Uint8Array([1, 2, 3]) });
        assert.equal(reply.n, 1);
        assert.deepEqual([...new Uint8Array(reply.bytes)], [1, 2, 3]);
      } finally {
        socket.disconnect();
      }
    } finally {
      g.io = before;
      await server.close();
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
  it("is the current build of the client, maps included, within its size budgets (else: deno task build:browser)", async () => {
    const { buildBrowser, BUDGET_GZIP_BYTES, MSGPACK_BUDGET_GZIP_BYTES, sourceMapsOf } = await import(
      "../scripts/build_browser.ts"
    );
    const result = await buildBrowser({ check: true, quiet: true });
    for (const [name, size] of Object.entries(result.sizes)) {
      const budget = name.includes("msgpack") ? MSGPACK_BUDGET_GZIP_BYTES : BUDGET_GZIP_BYTES;
      assert.ok(size.gzip <= budget, `${name}: ${size.gzip} bytes min+gzip > ${budget}`);
    }
    assert.ok(result.upToDate, "src/io/_client_bundle.ts is out of date: run `deno task build:browser`");
    // The maps were made with the embedded code (their module has its hash); they name the same
    // sources as a fresh build's, with a text for each.
    const maps = sourceMapsOf(result.bundles);
    for (const kind of ["global", "esm", "msgpack"] as const) {
      assert.equal(
        result.bundles[kind].code,
        { global: CLIENT_BUNDLE_GLOBAL, esm: CLIENT_BUNDLE_ESM, msgpack: CLIENT_BUNDLE_MSGPACK }[kind],
      );
      const served = JSON.parse(new TextDecoder().decode(await clientFileBytes({ kind, map: true }, "identity")));
      assert.deepEqual(served.sources, maps[kind].sources, `the ${kind} map`);
      assert.equal(served.sourcesContent.length, served.sources.length);
      assert.ok(served.sourcesContent.every((text: unknown) => typeof text === "string" && text.length > 0));
      assert.equal(served.names.length > 0 && served.mappings.length > 0, true);
    }
  });
});
