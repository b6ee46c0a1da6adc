// The Durable Object's heartbeat schedule on a clock of our own: pings go out whenever the object
// handles something once they are due, however late its alarm; a pong that waits behind the
// client's own frames, or that reached the platform while the object was busy, is not missing;
// a session that sends nothing is still closed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HeartbeatMember, ObjectHeartbeat } from "../src/runtime/durable_object_heartbeat.ts";

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const T0 = 1_000_000;

interface Peer {
  member: HeartbeatMember;
  pings: number[];
  closedAt?: number;
}

/** A heartbeat and a clock: `at(t)` moves the clock, the peers log what happened when. */
function setup(autoPong?: () => number) {
  const heartbeat = new ObjectHeartbeat({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
  let now = T0;
  const join = (dueAt: number, clientPings = false): Peer => {
    const peer: Peer = { member: undefined as unknown as HeartbeatMember, pings: [] };
    peer.member = new HeartbeatMember(
      {
        ping: () => peer.pings.push(now),
        timedOut: () => peer.closedAt = now,
        autoPongAt: autoPong,
      },
      dueAt,
      clientPings,
    );
    heartbeat.join(peer.member, now);
    return peer;
  };
  /** What the alarm does at `t`. */
  const alarm = (t: number) => {
    now = t;
    heartbeat.ping(t);
    heartbeat.check(t);
  };
  /** An event (a frame, a request) handled at `t`: pings only. */
  const event = (t: number) => {
    now = t;
    heartbeat.ping(t);
  };
  return { heartbeat, join, alarm, event };
}

describe("Durable Object heartbeat schedule", () => {
  it("sends the pings that are due from any event, while the alarm is late", () => {
    const { heartbeat, join, event } = setup();
    const a = join(T0 + PING_INTERVAL);
    const b = join(T0 + 50 + PING_INTERVAL);
    assert.equal(heartbeat.nextAt, T0 + PING_INTERVAL);
    // The alarm set for T0 + 300 has not run; the object handles frames all the while.
    for (let t = T0; t <= T0 + 1000; t += 10) event(t);
    // Every ping on time (within the 10 ms between events), never more than pingInterval apart.
    assert.deepEqual(a.pings, [T0 + 300, T0 + 600, T0 + 900]);
    // b shares a's rounds: pinged up to min(pingInterval, pingTimeout) / 2 early, never late.
    assert.deepEqual(b.pings, [T0 + 300, T0 + 600, T0 + 900]);
  });

  it("pings a session no sooner than min(pingInterval, pingTimeout) / 2 before it is due", () => {
    const { join, event } = setup();
    const anchor = join(T0 + PING_INTERVAL);
    const late = join(T0 + 120 + PING_INTERVAL); // joined 120 ms after the anchor
    const later = join(T0 + 200 + PING_INTERVAL); // 200 ms after
    for (let t = T0; t <= T0 + 1200; t += 5) event(t);
    assert.equal(anchor.pings[0], T0 + 300);
    // 120 ms after the anchor: more than 100 ms early for the anchor's round, so a round of its own
    assert.equal(late.pings[0], T0 + 420);
    // 200 ms after: within 100 ms of the late one's round, so it shares it
    assert.equal(later.pings[0], T0 + 420);
    for (const peer of [anchor, late, later]) {
      for (let i = 1; i < peer.pings.length; i++) assert.equal(peer.pings[i] - peer.pings[i - 1], PING_INTERVAL);
    }
  });

  it("pings a session whose first ping is overdue (an upgrade after pingInterval) as it joins", () => {
    const { heartbeat, join } = setup();
    const upgraded = join(T0 - 100); // handshake 400 ms ago, on polling until now
    assert.deepEqual(upgraded.pings, [T0]);
    assert.equal(heartbeat.nextAt, T0 + PING_TIMEOUT, "its pong is due next");
  });

  it("closes a session that sends nothing, one last look after its deadline", () => {
    const { heartbeat, join, alarm } = setup();
    const dead = join(T0 + PING_INTERVAL);
    alarm(T0 + 300);
    assert.deepEqual(dead.pings, [T0 + 300]);
    assert.equal(heartbeat.nextAt, T0 + 500); // the check
    alarm(T0 + 500);
    assert.equal(dead.closedAt, undefined, "closed without a last look");
    assert.equal(heartbeat.nextAt, T0 + 501);
    alarm(T0 + 501);
    assert.equal(dead.closedAt, T0 + 501);
    assert.equal(heartbeat.size, 0);
  });

  it("keeps a session whose pong is queued behind its own frames", () => {
    const { heartbeat, join, alarm, event } = setup();
    const busy = join(T0 + PING_INTERVAL);
    alarm(T0 + 300);
    // Its burst: frames handed over one at a time while the object is busy, the pong last, well
    // after pingTimeout; the alarm checks in between.
    for (let t = T0 + 310; t < T0 + 700; t += 30) {
      heartbeat.heard(busy.member, t, false);
      event(t);
      alarm(t + 15);
    }
    assert.equal(busy.closedAt, undefined);
    heartbeat.heard(busy.member, T0 + 710, true);
    alarm(T0 + 2000);
    assert.equal(busy.closedAt, undefined);
    assert.equal(busy.member.awaiting, T0 + 2000, "pinged again, awaiting that pong");
  });

  it("gives a pong that reached the platform while the object was busy one last look as late as the check", () => {
    const { join, alarm, heartbeat } = setup();
    const quiet = join(T0 + PING_INTERVAL);
    alarm(T0 + 300);
    // The check was due at T0 + 500; the object was busy until T0 + 650.
    alarm(T0 + 650);
    assert.equal(quiet.closedAt, undefined);
    assert.equal(heartbeat.nextAt, T0 + 650 + 150, "the last look comes as late again as the check did");
    heartbeat.heard(quiet.member, T0 + 660, true); // the pong, handed over once the object is free
    alarm(T0 + 800);
    assert.equal(quiet.closedAt, undefined);
  });

  it("closes a session that keeps sending but never answers, pingTimeout after its last frame", () => {
    const { heartbeat, join, alarm } = setup();
    const chatty = join(T0 + PING_INTERVAL);
    alarm(T0 + 300);
    for (let t = T0 + 310; t <= T0 + 900; t += 50) {
      heartbeat.heard(chatty.member, t, false);
      alarm(t);
    }
    assert.equal(chatty.closedAt, undefined);
    // Last frame at T0 + 860: its deadline T0 + 1060, then the last look.
    for (let t = T0 + 900; t <= T0 + 1100 && chatty.closedAt === undefined; t++) alarm(t);
    assert.equal(chatty.closedAt, T0 + 1061);
  });

  it("counts a pong the platform answered (autoPong) by its timestamp", () => {
    let autoPongAt = 0;
    const { join, alarm } = setup(() => autoPongAt);
    const auto = join(T0 + PING_INTERVAL);
    alarm(T0 + 300);
    autoPongAt = T0 + 302;
    alarm(T0 + 500);
    alarm(T0 + 501);
    assert.equal(auto.closedAt, undefined);
    alarm(T0 + 600); // next ping; no pong this time
    alarm(T0 + 800);
    alarm(T0 + 801);
    assert.equal(auto.closedAt, T0 + 801);
  });

  it("never pings an Engine.IO v3 session, and closes it when its client stops pinging", () => {
    const { heartbeat, join, alarm } = setup();
    const v3 = join(T0 + PING_INTERVAL, true);
    // Its client pings every pingInterval; the server only answers.
    for (let t = T0 + 300; t <= T0 + 1500; t += 300) {
      heartbeat.heard(v3.member, t, true);
      alarm(t + 1);
    }
    assert.deepEqual(v3.pings, []);
    assert.equal(v3.closedAt, undefined);
    // It stops: closed pingInterval + pingTimeout after its last ping (T0 + 1500), after the last look.
    for (let t = T0 + 1502; t <= T0 + 2200 && v3.closedAt === undefined; t++) alarm(t);
    assert.equal(v3.closedAt, T0 + 2001);
  });

  it("forgets a session that left", () => {
    const { heartbeat, join, alarm } = setup();
    const gone = join(T0 + PING_INTERVAL);
    heartbeat.leave(gone.member);
    assert.equal(heartbeat.nextAt, Infinity);
    alarm(T0 + 300);
    alarm(T0 + 600);
    assert.deepEqual(gone.pings, []);
    assert.equal(gone.closedAt, undefined);
  });
});
