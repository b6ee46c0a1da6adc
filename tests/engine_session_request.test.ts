// What a session keeps of its first request (src/engine/session_request.ts): a string and a plain
// object, with URL and Headers rebuilt on demand, and the handshake the io layer builds from them.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SessionRequest } from "../src/engine/session_request.ts";
import { headerRecord } from "../src/engine/exchange.ts";
import { fromWebRequest } from "../src/engine/web_exchange.ts";
import { until } from "./_helpers.ts";
import { Server } from "../src/io/server.ts";

describe("SessionRequest", () => {
  it("keeps the URL's parts and the headers, and rebuilds URL and Headers when read", () => {
    const request = new Request("https://example.com:8443/socket.io/?EIO=4&transport=polling&room=a&room=b#frag", {
      headers: { Origin: "https://app.example", "X-Token": "t1", Cookie: "a=1" },
    });
    const req = SessionRequest.from(fromWebRequest(request, { remoteAddress: "10.0.0.1" }), true);
    assert.equal(req.pathAndQuery, "/socket.io/?EIO=4&transport=polling&room=a&room=b");
    assert.equal(req.search, "EIO=4&transport=polling&room=a&room=b");
    assert.deepEqual(req.headerRecord, { cookie: "a=1", origin: "https://app.example", "x-token": "t1" });
    assert.equal(req.method, "GET");
    assert.equal(req.remoteAddress, "10.0.0.1");
    assert.equal(req.secure, true);
    assert.ok(req.url instanceof URL);
    assert.equal(req.url.port, "8443");
    assert.deepEqual(req.url.searchParams.getAll("room"), ["a", "b"]);
    assert.equal(req.url, req.url, "built once");
    assert.ok(req.headers instanceof Headers);
    assert.equal(req.headers.get("x-token"), "t1");
    assert.equal(req.headers, req.headers, "built once");
  });

  it("handles a URL without a query and a bare origin", () => {
    const bare = new SessionRequest("http://h", {}, "GET", "", false);
    assert.equal(bare.pathAndQuery, "/");
    assert.equal(bare.search, "");
    const path = new SessionRequest("http://h/socket.io/#x", {}, "GET", "", false);
    assert.equal(path.pathAndQuery, "/socket.io/");
    assert.equal(path.search, "");
  });

  it("a header named __proto__ is an own property, never the prototype", () => {
    const headers = new Headers();
    headers.set("__proto__", "polluted");
    headers.set("constructor", "c");
    const record = headerRecord(headers);
    assert.equal(Object.getPrototypeOf(record), Object.prototype);
    assert.ok(Object.hasOwn(record, "__proto__"));
    assert.equal(Object.getOwnPropertyDescriptor(record, "__proto__")?.value, "polluted");
    assert.equal(record.constructor, "c" as unknown);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("socket.handshake is built from it: shared headers, parsed query, path and query", async () => {
    const io = new Server();
    const seen: Array<{ headers: unknown; query: unknown; url: string; xdomain: boolean }> = [];
    const sockets: unknown[] = [];
    io.on("connection", (socket) => {
      sockets.push(socket);
      seen.push({
        headers: socket.handshake.headers,
        query: socket.handshake.query,
        url: socket.handshake.url,
        xdomain: socket.handshake.xdomain,
      });
    });
    io.of("/other").on("connection", (socket) => {
      seen.push({
        headers: socket.handshake.headers,
        query: socket.handshake.query,
        url: socket.handshake.url,
        xdomain: socket.handshake.xdomain,
      });
    });
    const open = await io.handler()(
      new Request("http://x/socket.io/?EIO=4&transport=polling&k=v&k=w", { headers: { origin: "https://o" } }),
    );
    const sid = JSON.parse((await open.text()).slice(1)).sid;
    const url = `http://x/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    const post = await io.handler()(new Request(url, { method: "POST", body: "40\x1e40/other," }));
    assert.equal(post.status, 200);
    await post.body?.cancel();
    await until(() => seen.length >= 2, 2000, "both sockets");
    assert.equal(seen.length, 2);
    assert.deepEqual(seen[0].query, { EIO: "4", transport: "polling", k: ["v", "w"] });
    assert.equal(seen[0].url, "/socket.io/?EIO=4&transport=polling&k=v&k=w");
    assert.equal((seen[0].headers as Record<string, string>).origin, "https://o");
    assert.equal(seen[0].xdomain, true);
    assert.equal(seen[0].headers, seen[1].headers, "one headers object per connection");
    assert.notEqual(seen[0].query, seen[1].query, "a query object per socket");
    await io.close();
  });
});
