/**
 * WebSocket hibernation in real workerd: workerd evicts a Durable Object after 10 s without events;
 * with hibernatable WebSockets the clients stay connected. The `slow` object pings every 13 s, so
 * between the clients' last events and its first ping it hibernates; the next event wakes a NEW
 * instance, which must restore the sessions, socket ids, rooms and `socket.data`, and the heartbeat
 * (alarm ping, pong answered by the platform) must keep the sessions alive across it. A
 * socket.io-client 2 client (Engine.IO v3: it pings, the object answers) goes through it too.
 *
 * Takes about 17 s (the eviction delay is workerd's, not ours).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io, type Socket } from "socket.io-client";
import { createRequire } from "node:module";
import { connected, delay, once, startWorkerd, TEST_WORKER, type WorkerdServer } from "./workers/_helpers.ts";

let server: WorkerdServer;
const sockets: Socket[] = [];
// deno-lint-ignore no-explicit-any
const ioV2: any = createRequire(import.meta.url)("socket.io-client-v2");

before(async () => {
  server = await startWorkerd(...TEST_WORKER);
});

after(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  await server?.close();
});

/** One object of class `kind` through hibernation and its first heartbeat. */
async function scenario(kind: string): Promise<void> {
  const name = `hib-${Date.now()}`;
  const client = (transports: string[]) => {
    const socket = io(server.url, {
      forceNew: true,
      reconnection: false,
      timeout: 3000,
      transports,
      query: { do: kind, room: name },
    });
    sockets.push(socket);
    return socket;
  };
  const a = await connected(client(["websocket"]));
  // b starts on polling and upgrades: the adopted session must be restorable too.
  const b = await connected(client(["polling", "websocket"]));
  if (b.io.engine.transport.name !== "websocket") await once(b.io.engine, "upgrade");
  // c speaks Engine.IO v3 / Socket.IO v4 (the object has allowEIO3)
  const c = await connected(
    ioV2(server.url, {
      forceNew: true,
      reconnection: false,
      transports: ["websocket"],
      query: { do: kind, room: name },
    }),
  );
  sockets.push(c);
  // deno-lint-ignore no-explicit-any
  const callC = (event: string, ...args: unknown[]): Promise<any> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), 3000);
      c.emit(event, ...args, (answer: unknown) => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
  let aDisconnected = false;
  a.on("disconnect", () => (aDisconnected = true));

  assert.equal(await a.timeout(2000).emitWithAck("join", "r1"), true);
  assert.equal(await b.timeout(2000).emitWithAck("join", "r1"), true);
  assert.equal(await callC("join", "r1"), true);
  await a.timeout(2000).emitWithAck("set-data", "color", "blue");
  const before = await a.timeout(2000).emitWithAck("whoami");
  assert.equal(before.recovered, false);
  let pings = 0;
  a.io.engine.on("ping", () => pings++);

  await delay(11500); // > 10 s without events: workerd hibernates the object

  const woke = await a.timeout(3000).emitWithAck("whoami");
  assert.notEqual(woke.instance, before.instance, "the object did not hibernate");
  assert.equal(woke.id, before.id);
  assert.equal(woke.recovered, true);
  assert.deepEqual(woke.rooms, before.rooms);
  assert.deepEqual(woke.data, { connectedTo: before.instance, color: "blue" });
  assert.equal(woke.clients, 3);
  assert.equal(woke.transport, "websocket");
  const wokeC = await callC("whoami");
  assert.deepEqual([wokeC.id, wokeC.recovered, wokeC.rooms], [c.id, true, [c.id, "r1"].sort()]);

  // Rooms across clients after the wake-up (b and c were restored too).
  const gotB = once(b, "room-back");
  const gotC = once(c, "room-back");
  a.emit("to-room", "r1", "after wake");
  assert.deepEqual(await gotB, ["after wake"]);
  assert.deepEqual(await gotC, ["after wake"]);
  assert.equal(await b.timeout(2000).emitWithAck("echo", 1), 1);

  // The alarm pings at ~13 s; the pongs (answered by the platform) keep both sessions through
  // the check at ping + 2 s.
  await delay(13000 + 2000 + 1000 - 11500);
  assert.ok(pings >= 1, "no ping from the alarm");
  assert.equal(aDisconnected, false);
  assert.equal(a.connected && b.connected && c.connected, true);
  assert.equal(await a.timeout(2000).emitWithAck("echo", "alive"), "alive");
  assert.equal(await callC("echo", "alive"), "alive");
}

describe("workerd, hibernation", () => {
  // Both at once (two objects), so the file waits for workerd's eviction only once.
  it("sessions, rooms and socket.data survive hibernation; the heartbeat goes on", async () => {
    await Promise.all([scenario("slow"), scenario("slow_auto")]);
  });
});
