/**
 * The fixture's `--ping-interval MS --ping-timeout MS` flags (used by `bench:scale` for socket.io's
 * 25 s / 20 s heartbeat) reach the handshake of both of its servers, on the runtime FIXTURE names
 * (every runtime in CI, the reference socket.io included).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Fixture, startFixture } from "../_fixture_process.ts";
import { Polling } from "./_helpers.ts";

describe("the fixture's heartbeat flags", () => {
  let fixture: Fixture;
  before(async () => {
    fixture = await startFixture({ flags: ["--ping-interval", "25000", "--ping-timeout", "20000"] });
  });
  after(() => fixture?.close());

  for (const path of ["/socket.io/", "/engine.io/"]) {
    it(`set pingInterval and pingTimeout in the open packet of ${path}`, async () => {
      const session = new Polling(fixture.url, path);
      const handshake = await session.open();
      assert.equal(handshake.pingInterval, 25000);
      assert.equal(handshake.pingTimeout, 20000);
      // Close the session: with a 45 s heartbeat it would otherwise outlive the test by far.
      assert.equal((await session.post("1")).status, 200);
    });
  }
});
