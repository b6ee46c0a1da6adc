// The engine's contract (src/engine/exchange.ts): requests come in as EngineRequests, answers go out
// as plain EngineResponses whose text the shims write as it is; the web adapters turn a Request into
// one and an answer into a Response, and let a runtime's own Response (a 101, a fallback's) through.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../src/engine/server.ts";
import { fromWebRequest, toWebResponse, toWebResponseFromInit } from "../src/engine/web_exchange.ts";
import { Server } from "../src/io/server.ts";

describe("engine exchange", () => {
  it("the engine answers with plain objects whose body is the text to write", async () => {
    const engine = new Engine({});
    const base = "http://x/engine.io/?EIO=4&transport=polling";
    try {
      const open = (await engine.handle(fromWebRequest(new Request(base))))!;
      assert.ok(!(open instanceof Response));
      assert.equal(open.status, 200);
      assert.equal(open.headers.get("content-type"), "text/plain; charset=UTF-8");
      assert.equal(typeof open.body, "string");
      assert.ok((open.body as string).startsWith('0{"sid":'));

      const sid = JSON.parse((open.body as string).slice(1)).sid;
      const post =
        (await engine.handle(fromWebRequest(new Request(`${base}&sid=${sid}`, { method: "POST", body: "4hi" }))))!;
      assert.deepEqual([post.status, post.body], [200, "ok"]);
      engine.clients.get(sid)!.send("back");
      const get = (await engine.handle(fromWebRequest(new Request(`${base}&sid=${sid}`))))!;
      assert.equal(get.body, "4back");

      const refused = (await engine.handle(fromWebRequest(new Request(`${base}&sid=nope`))))!;
      assert.equal(refused.status, 400);
      assert.deepEqual(JSON.parse(refused.body as string), { code: 1, message: "Session ID unknown" });
      // As a web Response: the same status, headers and text.
      const web = toWebResponse(refused);
      assert.equal(web.status, 400);
      assert.equal(web.headers.get("content-type"), "application/json");
      assert.deepEqual(await web.json(), { code: 1, message: "Session ID unknown" });
    } finally {
      await engine.close(10);
    }
  });

  it("both ways of making the web Response give the same status, headers, cookies and body", async () => {
    const headers = () => {
      const h = new Headers();
      h.set("Content-Type", "text/html");
      h.set("Cache-Control", "no-store");
      h.append("Vary", "Origin");
      h.append("Vary", "Accept-Encoding");
      h.append("Set-Cookie", "io=abc; Path=/");
      h.append("Set-Cookie", "other=1, with a comma");
      return h;
    };
    for (const make of [toWebResponse, toWebResponseFromInit]) {
      const web = make({ status: 200, headers: headers(), body: "ok" });
      assert.equal(web.status, 200);
      // the engine's content type, not the one a string body gets by default
      assert.equal(web.headers.get("content-type"), "text/html");
      assert.equal(web.headers.get("cache-control"), "no-store");
      assert.equal(web.headers.get("vary"), "Origin, Accept-Encoding");
      assert.deepEqual(web.headers.getSetCookie(), ["io=abc; Path=/", "other=1, with a comma"]);
      assert.equal(await web.text(), "ok");
      const binary = make({ status: 200, headers: new Headers(), body: new Uint8Array([1, 2]) });
      assert.deepEqual([...new Uint8Array(await binary.arrayBuffer())], [1, 2]);
      for (const status of [204, 304]) {
        const empty = make({ status, headers: new Headers({ "x-a": "1" }), body: "" });
        assert.deepEqual([empty.status, empty.body, empty.headers.get("x-a")], [status, null, "1"]);
      }
    }
  });

  it("a Response passes through toWebResponse untouched", () => {
    const response = new Response("mine", { status: 202 });
    assert.equal(toWebResponse(response), response);
  });

  it("the web adapter reads headers, the peer, the body within a limit, and an abort", async () => {
    const controller = new AbortController();
    const request = fromWebRequest(
      new Request("http://x/p", {
        method: "POST",
        body: "0123456789",
        headers: [["X-A", "1"], ["x-a", "2"], ["__proto__", "p"]],
        signal: controller.signal,
      }),
      { remoteAddress: "10.0.0.1", remotePort: 4000 },
    );
    assert.equal(request.method, "POST");
    assert.equal(request.header("x-a"), "1, 2");
    assert.equal(request.header("x-none"), null);
    const record = request.headerRecord();
    assert.equal(Object.getPrototypeOf(record), Object.prototype);
    assert.equal(record["__proto__" as string], "p");
    assert.deepEqual([request.remoteAddress, request.remotePort], ["10.0.0.1", 4000]);
    assert.ok(request.toRequest() instanceof Request);
    assert.equal(await request.readText(5), null, "over the limit");

    let aborted = 0;
    const stop = request.onAbort(() => aborted++);
    controller.abort();
    assert.equal(aborted, 1);
    stop();
    // Watching a request whose client is gone already tells at once (on the next microtask).
    await new Promise<void>((resolve) => request.onAbort(resolve));
  });

  it("io.handle routes: the client bundle, the engine path (all of it), then the fallback (404 by default)", async () => {
    const io = new Server();
    try {
      const engineAnswer = (await io.handle(fromWebRequest(new Request("http://x/socket.io/?EIO=4&transport=nope"))))!;
      assert.equal(engineAnswer.status, 400);
      const bundle = (await io.handle(fromWebRequest(new Request("http://x/socket.io/socket.io.min.js"))))!;
      assert.equal(bundle.status, 200);
      assert.ok(bundle.body instanceof Uint8Array);
      // Every URL under the path is the engine's (socket.io's takes `/socket.io/anything`).
      const under = (await io.handle(fromWebRequest(new Request("http://x/socket.io/anything?EIO=4"))))!;
      assert.deepEqual([under.status, under.body], [400, '{"code":0,"message":"Transport unknown"}']);
      const poll =
        (await io.handle(fromWebRequest(new Request("http://x/socket.io/x/?EIO=4&transport=polling&sid=n"))))!;
      assert.deepEqual([poll.status, poll.body], [400, '{"code":1,"message":"Session ID unknown"}']);
      const missing = (await io.handle(fromWebRequest(new Request("http://x/elsewhere"))))!;
      assert.deepEqual([missing.status, missing.body], [404, "Not Found"]);
      const beside = (await io.handle(fromWebRequest(new Request("http://x/socket.iox/?EIO=4&transport=polling"))))!;
      assert.equal(beside.status, 404, "a path that only starts like it is not the engine's");
      const mine = new Response("mine");
      const fallback = await io.handle(fromWebRequest(new Request("http://x/elsewhere")), { fallback: () => mine });
      assert.equal(fallback, mine);
      const taken = await io.handle(fromWebRequest(new Request("http://x/elsewhere")), { fallback: () => undefined });
      assert.equal(taken, undefined, "a fallback that took the request over answers nothing");
      const badHost = (await io.handle({ ...fromWebRequest(new Request("http://x/")), url: "http://a b/socket.io/" }))!;
      assert.equal(badHost.status, 400);
    } finally {
      await io.close();
    }
  });
});
