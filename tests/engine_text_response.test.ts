// The engine's text answers: a real Response for a plain request; for a request whose shim writes
// answers itself (TEXT_ANSWERS), a TextAnswer that reads as a Response in every member user code
// might touch, with the text available to the shim without a body stream.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../src/engine/server.ts";
import { responseText, TEXT_ANSWERS, TextAnswer } from "../src/engine/text_response.ts";

function marked(url: string, init?: RequestInit): Request {
  const request = new Request(url, init);
  Object.defineProperty(request, TEXT_ANSWERS, { value: true });
  return request;
}

describe("engine text answers", () => {
  it("are real Responses for plain requests and TextAnswers for shims that take them", async () => {
    const engine = new Engine({});
    const base = "http://x/engine.io/?EIO=4&transport=polling";
    try {
      const plain = (await engine.handleRequest(new Request(base)))!;
      assert.ok(!(plain instanceof TextAnswer));
      assert.equal(responseText(plain), undefined);
      assert.ok((await plain.text()).startsWith('0{"sid":'));

      const answer = (await engine.handleRequest(marked(base)))!;
      assert.ok(answer instanceof TextAnswer);
      assert.ok(answer instanceof Response);
      assert.equal(answer.status, 200);
      assert.equal(answer.ok, true);
      assert.equal(answer.headers.get("content-type"), "text/plain; charset=UTF-8");
      const text = responseText(answer)!;
      assert.ok(text.startsWith('0{"sid":'));
      assert.equal(answer.bodyUsed, false);
      assert.equal(await answer.clone().text(), text);
      assert.equal(await answer.text(), text);
      assert.equal(answer.bodyUsed, true);
      assert.equal(answer.type, "default");
      assert.equal(answer.redirected, false);

      // A POST's "ok" and the GET's payload.
      const sid = JSON.parse(text.slice(1)).sid;
      const post = (await engine.handleRequest(marked(`${base}&sid=${sid}`, { method: "POST", body: "4hi" })))!;
      assert.ok(post instanceof TextAnswer);
      assert.equal(responseText(post), "ok");
      assert.equal(await post.text(), "ok");
      engine.clients.get(sid)!.send("back");
      const get = (await engine.handleRequest(marked(`${base}&sid=${sid}`)))!;
      assert.ok(get instanceof TextAnswer);
      assert.equal(responseText(get), "4back");
      assert.deepEqual(await get.json().catch((e: Error) => e.name), "SyntaxError");

      // Refusals too: an unknown session.
      const refused = (await engine.handleRequest(marked(`${base}&sid=nope`)))!;
      assert.ok(refused instanceof TextAnswer);
      assert.equal(refused.status, 400);
      assert.deepEqual(JSON.parse(responseText(refused)!), { code: 1, message: "Session ID unknown" });
    } finally {
      await engine.close(10);
    }
  });
});
