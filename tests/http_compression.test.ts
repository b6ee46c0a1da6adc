/**
 * `httpCompression`: long-polling answers compressed by `Accept-Encoding` from a threshold, as
 * engine.io does (gzip or deflate, never for an answer whose messages were all sent with
 * `compress(false)`, off with `httpCompression: false`), read as raw bytes off the wire; the
 * negotiation agrees with the `negotiator` package socket.io uses; socket.io-client 4.8 and our
 * client (fetch, and node:http with `autoUnref`) exchange large messages over compressed polling.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Fetch, io as sioClient } from "socket.io-client";
import { Server, type ServerOptions, type Socket } from "../server.ts";
import { io as ourClient } from "../client.ts";
import { preferredEncoding } from "../src/engine/accept_encoding.ts";
import { type Running, serve, startServer } from "./_server.ts";
import { until } from "./_helpers.ts";
import { decodedText as textOf, raw } from "./_raw_http.ts";

/** The `negotiator` package (socket.io's `accepts` uses it), from socket.io's dependencies. */
const Negotiator = createRequire(import.meta.url)("../node_modules/negotiator/index.js") as new (
  request: { headers: Record<string, string> },
) => { encodings(available: string[]): string[] };

describe("Accept-Encoding negotiation", () => {
  it("picks what the negotiator package (socket.io's accepts) picks", () => {
    const headers = [
      "gzip",
      "deflate",
      "gzip, deflate",
      "deflate, gzip",
      "gzip, deflate, br, zstd",
      "br, deflate;q=0.9, gzip;q=0.8",
      "gzip;q=0.5, deflate;q=0.5",
      "gzip;q=0, deflate",
      "*",
      "*;q=0.5, gzip;q=0.1",
      "gzip;q=0, *",
      "identity",
      "identity, gzip;q=0.1",
      "br",
      "GZIP",
      "gzip;q=abc, deflate",
      "x-gzip, gzip ; q=0.3",
      ",,gzip,",
      "",
    ];
    for (const provided of [["gzip", "deflate"], ["br", "gzip", "deflate"]]) {
      for (const header of headers) {
        const expected = new Negotiator({ headers: { "accept-encoding": header } }).encodings([...provided])[0];
        assert.equal(preferredEncoding(header, provided), expected, `${JSON.stringify(header)} of ${provided}`);
      }
    }
    assert.equal(preferredEncoding(null, ["gzip"]), undefined);
  });
});

describe("httpCompression (long-polling answers)", () => {
  let running: Running | undefined;
  let sockets: Socket[] = [];

  /** A server with `options`; resolves with its URL; its sockets land in `sockets`. */
  async function start(options: ServerOptions = {}): Promise<string> {
    const io = new Server({ pingInterval: 5000, pingTimeout: 5000, allowEIO3: true, ...options });
    io.on("connection", (socket) => sockets.push(socket));
    running = await startServer(io);
    return running.url;
  }

  let polls: string[] = [];
  afterEach(async () => {
    // A last poll for each session collects its close packet: the server stops without waiting.
    const last = polls.map((poll) => raw(poll).catch(() => {}));
    await running?.close();
    await Promise.all(last);
    running = undefined;
    sockets = [];
    polls = [];
  });

  /** A polling session connected to `/` (past the CONNECT answer); returns its poll URL. */
  async function session(url: string, eio = 4): Promise<string> {
    const open = textOf(await raw(`${url}/socket.io/?EIO=${eio}&transport=polling`));
    const sid = JSON.parse(open.slice(open.indexOf("{"), open.lastIndexOf("}") + 1)).sid as string;
    const poll = `${url}/socket.io/?EIO=${eio}&transport=polling&sid=${sid}`;
    if (eio === 4) {
      assert.equal(textOf(await raw(poll, {}, "POST", "40")), "ok");
      assert.match(textOf(await raw(poll)), /^40\{"sid":/);
    }
    await until(() => sockets.length > 0, 2000, "the socket");
    polls.push(poll);
    return poll;
  }

  const big = "x".repeat(2000);

  it("compresses a large answer with gzip or deflate, as Accept-Encoding prefers", async () => {
    const url = await start();
    const poll = await session(url);
    for (
      const [accept, coding] of [
        ["gzip, deflate, br", "gzip"],
        ["deflate, gzip", "deflate"],
        ["br;q=1, deflate;q=0.5", "deflate"],
        ["br", undefined],
        ["identity", undefined],
        [undefined, undefined],
      ] as const
    ) {
      sockets[0].emit("big", big);
      const answer = await raw(poll, accept === undefined ? {} : { "accept-encoding": accept });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers["content-encoding"], coding, `Accept-Encoding: ${accept}`);
      assert.equal(answer.headers["content-type"], "text/plain; charset=UTF-8");
      assert.equal(Number(answer.headers["content-length"]), answer.body.byteLength);
      if (coding !== undefined) assert.ok(answer.body.byteLength < 200, `${answer.body.byteLength} bytes`);
      assert.equal(textOf(answer), `42["big","${big}"]`);
    }
  });

  it("compresses answers of any size (over 64 KiB too, where Node's zlib is not used synchronously)", async () => {
    const url = await start();
    const poll = await session(url);
    const huge = "0123456789abcdef".repeat(8192); // 128 KiB
    for (const coding of ["gzip", "deflate"]) {
      for (const text of [huge, big]) {
        sockets[0].emit("data", text);
        const answer = await raw(poll, { "accept-encoding": coding });
        assert.equal(answer.headers["content-encoding"], coding);
        assert.equal(textOf(answer), `42["data","${text}"]`);
      }
    }
  });

  it("leaves answers under the threshold, and messages sent with compress(false), uncompressed", async () => {
    const url = await start();
    const poll = await session(url);
    const gzip = { "accept-encoding": "gzip" };
    sockets[0].emit("small", "x".repeat(1009)); // 1,023 bytes on the wire
    let answer = await raw(poll, gzip);
    assert.equal(answer.headers["content-encoding"], undefined);
    assert.equal(textOf(answer).length, 1023);
    sockets[0].emit("exactly", "é".repeat(504)); // 1,024 bytes of UTF-8: compressed, as engine.io does
    answer = await raw(poll, gzip);
    assert.equal(answer.headers["content-encoding"], "gzip");
    assert.equal(textOf(answer), `42["exactly","${"é".repeat(504)}"]`);
    sockets[0].compress(false).emit("big", big);
    answer = await raw(poll, gzip);
    assert.equal(answer.headers["content-encoding"], undefined);
    assert.equal(textOf(answer), `42["big","${big}"]`);
    // One message that may be compressed is enough for the whole answer (as engine.io).
    sockets[0].compress(false).emit("big", big);
    sockets[0].emit("small", "y");
    answer = await raw(poll, gzip);
    assert.equal(answer.headers["content-encoding"], "gzip");
    assert.equal(textOf(answer), `42["big","${big}"]\x1e42["small","y"]`);
    // A broadcast's flag too.
    sockets[0].nsp.compress(false).emit("big", big);
    answer = await raw(poll, gzip);
    assert.equal(answer.headers["content-encoding"], undefined);
  });

  it("takes a threshold, and httpCompression: false turns it off", async () => {
    let url = await start({ httpCompression: { threshold: 100 } });
    let poll = await session(url);
    sockets[0].emit("medium", "x".repeat(200));
    let answer = await raw(poll, { "accept-encoding": "gzip" });
    assert.equal(answer.headers["content-encoding"], "gzip");
    assert.equal(textOf(answer), `42["medium","${"x".repeat(200)}"]`);
    const last = raw(poll).catch(() => {});
    await running!.close();
    await last;
    sockets = [];
    polls = [];

    url = await start({ httpCompression: false });
    poll = await session(url);
    sockets[0].emit("big", big);
    answer = await raw(poll, { "accept-encoding": "gzip" });
    assert.equal(answer.headers["content-encoding"], undefined);
    assert.equal(textOf(answer), `42["big","${big}"]`);
  });

  it("compresses Engine.IO v3 answers too (allowEIO3)", async () => {
    const url = await start();
    const poll = await session(url, 3);
    sockets[0].emit("big", big);
    const answer = await raw(poll, { "accept-encoding": "gzip" });
    assert.equal(answer.headers["content-encoding"], "gzip");
    assert.match(textOf(answer), new RegExp(`^\\d+:42\\["big","${big}"\\]$`));
  });

  describe("clients", () => {
    let io: Server;
    let server: Running;
    /** The Content-Encoding of every answer the server gave. */
    let codings: (string | null)[] = [];
    before(async () => {
      io = new Server({ pingInterval: 5000, pingTimeout: 5000 });
      io.on("connection", (socket) => {
        socket.on("echo", (value: unknown, ack: (value: unknown) => void) => ack(value));
        socket.on("shout", (value: unknown) => socket.emit("shouted", value));
      });
      server = await serve(async (request, options) => {
        const answer = await io.handle(request, options);
        if (answer && request.method === "GET") codings.push(answer.headers.get("content-encoding"));
        return answer;
      }, () => io.close());
    });
    after(async () => {
      await server?.close();
    });
    afterEach(() => {
      codings = [];
    });

    const text = "compress me ".repeat(500);
    const bytes = new Uint8Array(5000).map((_, i) => i % 7);

    /** Large messages both ways, with an ack, over polling. */
    // deno-lint-ignore no-explicit-any
    async function exchange(socket: any): Promise<void> {
      try {
        const reply = await socket.timeout(3000).emitWithAck("echo", { text, bytes });
        assert.equal(reply.text, text);
        assert.deepEqual(new Uint8Array(reply.bytes), bytes);
        const shouted = new Promise((resolve) => socket.once("shouted", resolve));
        socket.emit("shout", text);
        assert.equal(await shouted, text);
        assert.equal(socket.io.engine.transport.name, "polling");
      } finally {
        socket.disconnect();
      }
    }

    it("socket.io-client 4.8, its Fetch transport (the answers compressed)", async () => {
      await exchange(sioClient(server.url, { forceNew: true, reconnection: false, transports: [Fetch] }));
      assert.ok(codings.includes("gzip"), `the answers' codings: ${codings}`);
    });

    it("socket.io-client 4.8, its default polling transport", async () => {
      // XHR (xmlhttprequest-ssl outside browsers) sends no Accept-Encoding: answers stay plain.
      await exchange(sioClient(server.url, { forceNew: true, reconnection: false, transports: ["polling"] }));
    });

    it("our client (fetch)", async () => {
      await exchange(ourClient(server.url, { forceNew: true, reconnection: false, transports: ["polling"] }));
      assert.ok(codings.includes("gzip"), `the answers' codings: ${codings}`);
    });

    it("our client over node:http (autoUnref), which decodes the answers itself", async () => {
      await exchange(
        ourClient(server.url, { forceNew: true, reconnection: false, transports: ["polling"], autoUnref: true }),
      );
      assert.ok(codings.includes("gzip"), `the answers' codings: ${codings}`);
    });
  });
});
