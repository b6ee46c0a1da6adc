/**
 * Heartbeats on time under load (issue 19): the fixture on the runtime under test (FIXTURE:
 * deno, bun or node; deno under deno test) is loaded 20 times in a row by 50 socket.io-client 4.8
 * clients that connect at once over polling, upgrade, and emit 20 `message` events each; with
 * the fixture's 300/200 ms heartbeat, no client may be dropped (`ping timeout` from either side,
 * or anything else) and every echo must come back. The same load in workerd, with and without
 * hibernation, is in `workers_heartbeat.test.ts`.
 */
import { after, before, describe, it } from "node:test";
import { type Fixture, FIXTURE_KIND, startFixture } from "./_fixture_process.ts";
import { assertHeartbeatsHeld } from "./_heartbeat_load.ts";

let fixture: Fixture;

before(async () => {
  fixture = await startFixture();
});

after(async () => {
  await fixture?.close();
});

describe(`Heartbeat under load (fixture on ${FIXTURE_KIND}): 50 busy clients stay connected`, () => {
  for (let run = 1; run <= 20; run++) {
    it(`run ${run} of 20`, () => assertHeartbeatsHeld(fixture.url));
  }
});
