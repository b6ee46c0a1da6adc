/**
 * Interop with python-socketio 5 (Debian's python3-socketio, run by `/usr/bin/python3`): connect
 * with auth to `/` and `/custom`, events, `call` (acks), binary (bytes), rooms, count and an
 * unknown namespace, over polling and over WebSocket. `python_client.py` does the talking and
 * prints one JSON line; this file asserts it.
 *
 * Runs against ours by default; `FIXTURE=reference` runs it against the real npm socket.io.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { type Fixture, ROOT, startFixture } from "../_fixture_process.ts";

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

function runClient(url: string, transport: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [`${ROOT}tests/interop/python_client.py`, url, transport],
      { timeout: 20000, cwd: ROOT },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`python_client.py ${transport} failed: ${err.message}\n${stderr}\n${stdout}`));
          return;
        }
        const line = stdout.trim().split("\n").pop() ?? "";
        try {
          resolve(JSON.parse(line));
        } catch {
          reject(new Error(`python_client.py printed no JSON:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

describe("python-socketio 5 interop", () => {
  let fixture: Fixture;
  before(async () => {
    fixture = await startFixture();
  });
  after(async () => {
    await fixture?.close();
  });

  for (const transport of ["polling", "websocket"]) {
    it(`talks to the fixture over ${transport}`, async () => {
      const r = await runClient(fixture.url, transport);
      assert.equal(r.transport, transport);
      // connect with auth, to / and /custom; socket ids differ from each other and from the engine's
      assert.deepEqual(r.auth_main, [{ token: "py-123", n: 1 }]);
      assert.deepEqual(r.auth_custom, [{ token: "py-123", n: 1 }]);
      assert.equal(typeof r.sid_main, "string");
      assert.equal(typeof r.sid_custom, "string");
      assert.notEqual(r.sid_main, r.sid_custom);
      assert.notEqual(r.sid_main, r.engine_sid);
      // events
      assert.deepEqual(r.echo, [1, "2", { 3: [true] }, null]);
      // call = emit and await the ack
      assert.equal(r.call_one, "only");
      assert.deepEqual(r.call_many, [1, "two", [3]]);
      // binary both ways, in events and acks
      assert.deepEqual(r.binary_echo, [{ bytes: [1, 2, 3] }, { nested: { bytes: [0, 255] } }, "text"]);
      assert.deepEqual(r.binary_call, { bytes: [9, 8, 7] });
      // fixture extras
      assert.equal(r.join, true);
      assert.equal(typeof r.count, "number");
      assert.ok((r.count as number) >= 1, `count ${r.count}`);
      // an unknown namespace is refused with the protocol's message
      assert.equal(r.unknown_namespace, "One or more namespaces failed to connect");
      assert.deepEqual(r.unknown_namespace_errors, [{ message: "Invalid namespace" }]);
    });
  }
});
