/**
 * The engine's reading of a request URL (src/engine/request_target.ts): for plain URLs it skips
 * `URL`, and must give exactly what `URL` gives, for the path, every parameter and the pairs in order.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseRequestTarget } from "../src/engine/request_target.ts";
import { Engine } from "../src/engine/server.ts";
import { fromWebRequest } from "../src/engine/web_exchange.ts";

const URLS = [
  "http://localhost/socket.io/?EIO=4&transport=polling&t=PqX3a1b&sid=AbCd-Ef_Gh",
  "http://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket",
  "https://example.com/socket.io/",
  "http://[::1]:8080/socket.io/?EIO=3&j=0&b64=1",
  "http://h/socket.io/?a&b=&=c&a=2&d=e=f&&",
  "http://h/socket.io/?",
  "http://h/a/./b/?x=1",
  "http://h/a/../socket.io/?x=1",
  "http://h/a/..?x=1",
  "http://h/socket.io/?x=%41&y=a+b",
  "http://h/sock%65t.io/?x=1",
  "http://h/socket.io/?x=1#frag",
  "HTTP://H/Socket.IO/?X=1",
  "http://h",
  "http://h?x=1",
  "http://h/socket.io/?q=ü",
  "http://h//socket.io//?x=1",
  "ftp://h/socket.io/?x=1",
  "http://a.b-c.example./socket.io/?x=1",
  "http://h:65535/socket.io/?x=1",
  "http://h:0080/socket.io/?x=1",
  "http://h:80/socket.io/?x=1",
  "http://user:pw@h/socket.io/?x=1",
  "http://0x7f.1/socket.io/?x=1",
  "http://127.1/socket.io/?x=1",
  "http://010.0.0.1/socket.io/?x=1",
];

const NAMES = ["EIO", "transport", "t", "sid", "j", "b64", "a", "b", "", "d", "x", "X", "y", "q", "missing"];

describe("parseRequestTarget", () => {
  for (const url of URLS) {
    it(`reads ${url} as URL does`, () => {
      const expected = URL.parse(url)!;
      const target = parseRequestTarget(url);
      assert.ok(target !== null);
      assert.equal(target.pathname, expected.pathname);
      for (const name of NAMES) {
        assert.equal(target.searchParams.get(name), expected.searchParams.get(name), `parameter ${name}`);
      }
      assert.deepEqual([...target.searchParams], [...expected.searchParams]);
    });
  }

  it("reads the engine's usual URLs without URL (the point of it)", () => {
    assert.ok(!(parseRequestTarget(URLS[0])!.searchParams instanceof URLSearchParams));
    assert.ok(!(parseRequestTarget(URLS[1])!.searchParams instanceof URLSearchParams));
    assert.ok(parseRequestTarget(URLS[9])!.searchParams instanceof URLSearchParams); // %41: decoded by URL
  });

  it("is null where URL cannot parse", () => {
    const bad = [
      "http://a b/",
      "not a url",
      "/socket.io/?EIO=4",
      "http://h:65536/",
      "http://1.2.3.256/",
      "http://a.999/",
    ];
    for (const url of bad) {
      assert.equal(URL.parse(url), null);
      assert.equal(parseRequestTarget(url), null, url);
    }
  });
});

describe("Engine.handle", () => {
  it("answers a request whose URL it cannot read with a rejection, never a throw", async () => {
    const engine = new Engine();
    const request = fromWebRequest(new Request("http://localhost/engine.io/?EIO=4&transport=polling"));
    Object.defineProperty(request, "url", {
      get() {
        throw new Error("no URL");
      },
    });
    let answer: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      answer = engine.handle(request);
    });
    await assert.rejects(answer!, /no URL/);
    await engine.close();
  });

  it("answers a URL that URL cannot parse with 400", async () => {
    const engine = new Engine();
    const request = fromWebRequest(new Request("http://localhost/engine.io/?EIO=4&transport=polling"));
    Object.defineProperty(request, "url", { value: "http://a b/engine.io/" });
    const answer = await engine.handle(request);
    assert.equal(answer?.status, 400);
    await engine.close();
  });

  it("takes a handshake as secure from the URL's scheme or X-Forwarded-Proto", async () => {
    const engine = new Engine();
    const secure: boolean[] = [];
    engine.on("connection", (session) => secure.push(session.request.secure));
    const urls: Array<[string, Record<string, string>]> = [
      ["http://localhost/engine.io/?EIO=4&transport=polling", {}],
      ["https://localhost/engine.io/?EIO=4&transport=polling", {}],
      ["http://localhost/engine.io/?EIO=4&transport=polling", { "x-forwarded-proto": "https" }],
    ];
    for (const [url, headers] of urls) {
      const answer = await engine.handle(fromWebRequest(new Request(url, { headers })));
      assert.equal(answer?.status, 200);
    }
    assert.deepEqual(secure, [false, true, true]);
    await engine.close(0);
  });
});
