/**
 * Fuzz scenarios: each opens (or tries to open) a session and throws a bounded sequence of random
 * and mutated inputs at it, over polling, WebSocket, an upgrade, raw HTTP, or with a sid it does
 * not own. Each returns when its inputs are sent; every wait inside has a deadline.
 *
 * Sids of the control clients are never used: an Engine.IO sid is a bearer token, so whoever holds
 * it can take the session over; "stolen" sids come from other fuzz sessions.
 *
 * @module
 */

import { connectPacket, enginePacket, handshakeQuery, mutate, namespace, pollingPayload, sioPacket } from "./_gen.ts";
import type { Rng } from "./_rng.ts";
import { FuzzSocket, http, rawHttp, sleep } from "./_wire.ts";
import { decodePayload } from "../../src/parser/engine_io.ts";
import { encodePayloadV3 } from "../../src/parser/engine_io_v3.ts";

/** What scenarios share: where to send, and the tallies. */
export interface FuzzContext {
  httpBase: string;
  wsBase: string;
  port: number;
  /** The server's maxHttpBufferSize. */
  maxPayload: number;
  /** Inputs sent, by kind. */
  inputs: Record<string, number>;
  /** HTTP statuses seen, by code (0: no answer). */
  statuses: Record<string, number>;
  /** Sessions the fuzzer opened, by transport. */
  sessions: Record<string, number>;
  /** Sids of fuzz sessions, alive or dead (for stolen-sid inputs). */
  sids: string[];
  /** Set when the run must stop. */
  stopping: boolean;
}

function count(ctx: FuzzContext, kind: string, n = 1): void {
  ctx.inputs[kind] = (ctx.inputs[kind] ?? 0) + n;
}

function status(ctx: FuzzContext, code: number): void {
  ctx.statuses[code] = (ctx.statuses[code] ?? 0) + 1;
}

function rememberSid(ctx: FuzzContext, sid: string): void {
  ctx.sids.push(sid);
  if (ctx.sids.length > 200) ctx.sids.splice(0, 100);
}

function parseOpen(text: string | undefined): string | undefined {
  if (!text || !text.startsWith("0")) return undefined;
  try {
    const sid = JSON.parse(text.slice(1)).sid;
    return typeof sid === "string" ? sid : undefined;
  } catch {
    return undefined;
  }
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

async function pollRequest(ctx: FuzzContext, rng: Rng, url: string, nsp: string): Promise<void> {
  const action = rng.weighted<string>([
    [8, "post"],
    [3, "get-abort"],
    [1, "get"],
    [1, "overlap-get"],
    [1, "overlap-post"],
    [1, "method"],
    [1, "octet"],
    [1, "too-large"],
    [1, "truncated"],
  ]);
  count(ctx, `poll:${action}`);
  switch (action) {
    case "post":
      status(
        ctx,
        (await http(url, { method: "POST", body: pollingPayload(rng, rng.chance(0.7) ? nsp : undefined) })).status,
      );
      return;
    case "get-abort":
      status(ctx, (await http(url, {}, 3000, rng.int(0, 150))).status);
      return;
    case "get":
      status(ctx, (await http(url, {}, 1500)).status);
      return;
    case "overlap-get": {
      const [a, b] = await Promise.all([http(url, {}, 1500), http(url, {}, 1500)]);
      status(ctx, a.status);
      status(ctx, b.status);
      return;
    }
    case "overlap-post": {
      const body = () => pollingPayload(rng, nsp);
      const [a, b] = await Promise.all([
        http(url, { method: "POST", body: body() }),
        http(url, { method: "POST", body: body() }),
      ]);
      status(ctx, a.status);
      status(ctx, b.status);
      return;
    }
    case "method": {
      const method = rng.pick(METHODS.filter((m) => m !== "GET" && m !== "POST"));
      status(ctx, (await http(url, { method }, 1500)).status);
      return;
    }
    case "octet":
      status(
        ctx,
        (await http(url, {
          method: "POST",
          body: rng.bytes(rng.int(0, 64)),
          headers: { "content-type": "application/octet-stream" },
        }))
          .status,
      );
      return;
    case "too-large":
      status(
        ctx,
        (await http(url, { method: "POST", body: "4" + "x".repeat(ctx.maxPayload + rng.int(0, 10)) })).status,
      );
      return;
    case "truncated": {
      const body = pollingPayload(rng, nsp);
      const path = url.slice(url.indexOf("/", 8));
      const declared = body.length + rng.int(1, 1000);
      const chunked = rng.chance(0.3);
      const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n` +
        (chunked ? "Transfer-Encoding: chunked\r\n\r\n" + "fff\r\n" : `Content-Length: ${declared}\r\n\r\n`);
      const res = await rawHttp(ctx.port, head + body.slice(0, rng.int(0, body.length)), {
        cutAfterMs: rng.int(0, 100),
      });
      status(ctx, res.status);
      return;
    }
  }
}

/** A polling session: handshake, maybe CONNECT, random requests, then close, abandon or keep sending. */
export async function pollingSession(ctx: FuzzContext, rng: Rng): Promise<void> {
  const res = await http(`${ctx.httpBase}?${handshakeQuery(rng, "polling")}`, {
    method: rng.chance(0.95) ? "GET" : rng.pick(METHODS),
  });
  count(ctx, "poll:handshake");
  status(ctx, res.status);
  const sid = parseOpen(res.text);
  if (!sid) return;
  ctx.sessions.polling = (ctx.sessions.polling ?? 0) + 1;
  rememberSid(ctx, sid);
  const url = `${ctx.httpBase}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
  const nsp = namespace(rng);
  if (rng.chance(0.8)) {
    count(ctx, "poll:connect");
    status(ctx, (await http(url, { method: "POST", body: "4" + connectPacket(rng, nsp) })).status);
  }
  const steps = rng.int(1, 12);
  for (let i = 0; i < steps && !ctx.stopping; i++) await pollRequest(ctx, rng, url, nsp);
  const end = rng.weighted<string>([[4, "close"], [2, "abandon"], [2, "after-close"]]);
  if (end === "abandon") return;
  count(ctx, "poll:close");
  status(
    ctx,
    (await http(url, { method: "POST", body: rng.chance(0.5) ? "1" : "41" + (nsp === "/" ? "" : nsp + ",") + "\x1e1" }))
      .status,
  );
  if (end === "after-close") {
    for (let i = rng.int(1, 3); i > 0; i--) await pollRequest(ctx, rng, url, nsp);
  }
}

async function wsFrames(ctx: FuzzContext, rng: Rng, socket: FuzzSocket, nsp: string, n: number): Promise<void> {
  for (let i = 0; i < n && !ctx.stopping; i++) {
    const kind = rng.weighted<string>([[10, "engine"], [3, "sio-binary"], [1, "stray-binary"], [1, "big"], [
      1,
      "burst",
    ]]);
    count(ctx, `ws:${kind}`);
    switch (kind) {
      case "engine":
        socket.send(enginePacket(rng, rng.chance(0.7) ? nsp : undefined));
        break;
      case "sio-binary": {
        const p = sioPacket(rng, nsp);
        socket.send("4" + (rng.chance(0.8) ? p.text : mutate(rng, p.text)));
        for (const a of p.attachments) socket.send(a);
        break;
      }
      case "stray-binary":
        socket.send(rng.bytes(rng.int(0, 64)));
        break;
      case "big":
        socket.send("4" + "2" + JSON.stringify(["message", "x".repeat(ctx.maxPayload + rng.int(-10, 10))]));
        break;
      case "burst":
        for (let j = rng.int(10, 60); j > 0; j--) socket.send(`42["message",${j}]`);
        break;
    }
    if (rng.chance(0.3)) await sleep(rng.int(0, 20));
  }
}

/** A WebSocket-only session. */
export async function websocketSession(ctx: FuzzContext, rng: Rng): Promise<void> {
  count(ctx, "ws:handshake");
  const socket = new FuzzSocket(`${ctx.wsBase}?${handshakeQuery(rng, "websocket")}`);
  socket.answerPings = rng.chance(0.8);
  if (!(await socket.opened)) return;
  const sid = parseOpen(await socket.firstText());
  if (sid) {
    ctx.sessions.websocket = (ctx.sessions.websocket ?? 0) + 1;
    rememberSid(ctx, sid);
  }
  const nsp = namespace(rng);
  if (rng.chance(0.8)) {
    count(ctx, "ws:connect");
    socket.send("4" + connectPacket(rng, nsp));
  }
  await wsFrames(ctx, rng, socket, nsp, rng.int(1, 25));
  const end = rng.weighted<string>([[4, "close"], [1, "close-code"], [1, "abandon"], [2, "after-close"]]);
  if (end === "after-close") {
    socket.send("1");
    count(ctx, "ws:after-close");
    await wsFrames(ctx, rng, socket, nsp, rng.int(1, 5));
  }
  if (end === "abandon") {
    // Neither closed nor answering: the server's heartbeat must end it. Bounded: closed later.
    socket.answerPings = false;
    await sleep(rng.int(0, 50));
  }
  await socket.close(end === "close-code" ? rng.pick([1000, 1001, 3000, 4999]) : undefined, 1500);
}

/** A polling session that upgrades, or tries to, in some wrong order. */
export async function upgradeSession(ctx: FuzzContext, rng: Rng): Promise<void> {
  const res = await http(`${ctx.httpBase}?EIO=4&transport=polling`);
  count(ctx, "upgrade:handshake");
  status(ctx, res.status);
  const sid = parseOpen(res.text);
  if (!sid) return;
  ctx.sessions.upgrade = (ctx.sessions.upgrade ?? 0) + 1;
  rememberSid(ctx, sid);
  const url = `${ctx.httpBase}?EIO=4&transport=polling&sid=${sid}`;
  const nsp = namespace(rng);
  if (rng.chance(0.7)) await http(url, { method: "POST", body: "4" + connectPacket(rng, nsp) });
  // A poll that waits while the upgrade goes on (it must be answered, with a noop at the latest).
  const poll = rng.chance(0.6) ? http(url, {}, 3000) : Promise.resolve(undefined);
  const sockets: FuzzSocket[] = [];
  for (let n = rng.chance(0.15) ? 2 : 1; n > 0; n--) {
    count(ctx, "upgrade:ws");
    sockets.push(new FuzzSocket(`${ctx.wsBase}?EIO=4&transport=websocket&sid=${sid}`));
  }
  const ws = sockets[0];
  if (await ws.opened) {
    const steps = rng.int(1, 6);
    for (let i = 0; i < steps && !ctx.stopping; i++) {
      const frame = rng.weighted<string>([
        [4, "2probe"],
        [3, "5"],
        [2, enginePacket(rng, nsp)],
        [1, "2"],
        [1, "3probe"],
        [1, "1"],
      ]);
      count(ctx, "upgrade:frame");
      ws.send(frame);
      if (rng.chance(0.3)) await pollRequest(ctx, rng, url, nsp);
      if (rng.chance(0.5)) await sleep(rng.int(0, 30));
    }
    if (rng.chance(0.5)) await wsFrames(ctx, rng, ws, nsp, rng.int(1, 5));
  }
  const got = await poll;
  if (got) status(ctx, got.status);
  if (rng.chance(0.8)) { for (const s of sockets) await s.close(undefined, 1500); }
  else {
    // The upgrade never finishes and nobody closes: the upgrade timeout and the heartbeat must clean up.
    for (const s of sockets) s.answerPings = false;
    await sleep(rng.int(0, 100));
    for (const s of sockets) await s.close(undefined, 1500);
  }
}

/** Requests with a sid that belongs to some other fuzz session (alive or closed), or a made-up one. */
export async function stolenSid(ctx: FuzzContext, rng: Rng): Promise<void> {
  const sid = ctx.sids.length > 0 && rng.chance(0.8)
    ? rng.pick(ctx.sids)
    : rng.pick(["", "x", "AAAAAAAAAAAAAAAAAAAA", "%00", "../", "a".repeat(500)]);
  const transport = rng.pick(["polling", "websocket"]);
  const url = `?EIO=4&transport=${transport}&sid=${encodeURIComponent(sid)}`;
  count(ctx, `stolen:${transport}`);
  if (transport === "websocket" && rng.chance(0.7)) {
    const ws = new FuzzSocket(`${ctx.wsBase}${url}`);
    if (await ws.opened) {
      for (let i = rng.int(1, 4); i > 0; i--) ws.send(rng.pick(["2probe", "5", enginePacket(rng)]));
      await sleep(rng.int(0, 20));
    }
    await ws.close(undefined, 1000);
    return;
  }
  const method = rng.pick(["GET", "POST", "POST", "PUT"]);
  const res = await http(
    `${ctx.httpBase}${url}`,
    {
      method,
      body: method === "GET" ? undefined : pollingPayload(rng),
    },
    1500,
    method === "GET" ? rng.int(0, 200) : undefined,
  );
  status(ctx, res.status);
}

/** Raw garbage over TCP and odd requests to the engine path. */
export async function garbage(ctx: FuzzContext, rng: Rng): Promise<void> {
  const path = rng.pick([
    "/socket.io/",
    "/socket.io",
    "/socket.io/?",
    "/socket.io/?EIO=4&transport=polling",
    "/socket.io/x",
  ]);
  const kind = rng.weighted<string>([[3, "method"], [2, "raw-request"], [1, "raw-bytes"], [1, "ws-no-upgrade"], [
    1,
    "cors",
  ]]);
  count(ctx, `garbage:${kind}`);
  switch (kind) {
    case "method":
      status(
        ctx,
        (await http(
          `${ctx.httpBase.replace("/socket.io/", "")}${path}&${handshakeQuery(rng, "polling")}`,
          {
            method: rng.pick(METHODS),
          },
          1500,
          1000,
        )).status,
      );
      return;
    case "raw-request": {
      const lines = [
        `${rng.pick(METHODS)} ${path}${mutate(rng, "?EIO=4&transport=polling")} HTTP/1.1`,
        "Host: 127.0.0.1",
        rng.pick([
          "Upgrade: websocket\r\nConnection: Upgrade",
          "Content-Length: -1",
          "Content-Length: 99999999999",
          "X: " + "y".repeat(rng.int(0, 9000)),
          "Transfer-Encoding: chunked",
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad",
        ]),
      ];
      status(
        ctx,
        (await rawHttp(ctx.port, lines.join("\r\n") + "\r\n\r\n" + mutate(rng, "4hello"), {
          cutAfterMs: rng.chance(0.5) ? rng.int(0, 100) : undefined,
          ms: 1500,
        })).status,
      );
      return;
    }
    case "raw-bytes":
      status(
        ctx,
        (await rawHttp(ctx.port, rng.bytes(rng.int(1, 512)), { cutAfterMs: rng.int(0, 50), ms: 1000 })).status,
      );
      return;
    case "ws-no-upgrade":
      status(ctx, (await http(`${ctx.httpBase}?EIO=4&transport=websocket`, {}, 1500)).status);
      return;
    case "cors":
      status(
        ctx,
        (await http(`${ctx.httpBase}?EIO=4&transport=polling`, {
          method: "OPTIONS",
          headers: { origin: rng.pick(["http://evil.example", "null", ""]), "access-control-request-method": "POST" },
        }, 1500)).status,
      );
      return;
  }
}

/** A v4 polling payload of random records, re-framed for Engine.IO v3 (text, or the binary format). */
function v3Payload(rng: Rng, nsp: string): string | Uint8Array {
  const v4 = pollingPayload(rng, rng.chance(0.7) ? nsp : undefined);
  const packets = decodePayload(v4);
  if (packets === null) return rng.chance(0.5) ? v4 : `${v4.length}:${v4}`; // broken: as it is
  const body = encodePayloadV3(packets, rng.chance(0.3));
  if (typeof body !== "string") return body;
  return rng.chance(0.1) ? mutate(rng, body) : body;
}

/** An Engine.IO v3 session (socket.io-client 2.x): v3 framing, the client pings, v4 CONNECTs. */
export async function v3Session(ctx: FuzzContext, rng: Rng): Promise<void> {
  const b64 = rng.chance(0.5) ? "&b64=1" : "";
  const nsp = namespace(rng);
  // v4 CONNECT: no payload, a query in the namespace (`/` is joined without one)
  const connect = nsp === "/" ? "40" : `40${nsp}${rng.chance(0.5) ? "?token=" + rng.int(0, 9) : ""},`;
  if (rng.chance(0.5)) {
    const res = await http(`${ctx.httpBase}?EIO=3&transport=polling${b64}`);
    count(ctx, "v3:handshake");
    status(ctx, res.status);
    const sid = /^\d+:0(\{[^}]*\})/.exec(res.text ?? "")?.[1];
    if (!sid) return;
    const id = parseOpen("0" + sid);
    if (!id) return;
    ctx.sessions.v3 = (ctx.sessions.v3 ?? 0) + 1;
    rememberSid(ctx, id);
    const url = `${ctx.httpBase}?EIO=3&transport=polling&sid=${encodeURIComponent(id)}`;
    const post = (body: string | Uint8Array) =>
      http(url, {
        method: "POST",
        body: body as string | Uint8Array<ArrayBuffer>,
        headers: { "content-type": typeof body === "string" ? "text/plain;charset=UTF-8" : "application/octet-stream" },
      });
    status(ctx, (await post(`${connect.length}:${connect}`)).status);
    for (let i = rng.int(1, 10); i > 0 && !ctx.stopping; i--) {
      const action = rng.weighted<string>([[6, "post"], [2, "ping"], [2, "get"], [1, "pong"], [1, "v4-request"]]);
      count(ctx, `v3:${action}`);
      if (action === "post") status(ctx, (await post(v3Payload(rng, nsp))).status);
      else if (action === "ping") status(ctx, (await post("1:2")).status);
      else if (action === "pong") status(ctx, (await post("1:3")).status);
      else if (action === "get") status(ctx, (await http(url, {}, 1500, rng.int(0, 300))).status);
      else status(ctx, (await http(url.replace("EIO=3", "EIO=4"), {}, 1500)).status);
    }
    if (rng.chance(0.6)) status(ctx, (await post("1:1")).status);
    return;
  }
  count(ctx, "v3:ws-handshake");
  const socket = new FuzzSocket(`${ctx.wsBase}?EIO=3&transport=websocket${b64}`);
  socket.answerPings = false; // the server does not ping in v3
  if (!(await socket.opened)) return;
  const id = parseOpen(await socket.firstText());
  if (id) {
    ctx.sessions.v3 = (ctx.sessions.v3 ?? 0) + 1;
    rememberSid(ctx, id);
  }
  socket.send(connect);
  for (let i = rng.int(1, 20); i > 0 && !ctx.stopping; i--) {
    const kind = rng.weighted<string>([[8, "engine"], [3, "sio-binary"], [2, "ping"], [1, "stray-binary"]]);
    count(ctx, `v3:ws-${kind}`);
    if (kind === "engine") socket.send(enginePacket(rng, rng.chance(0.7) ? nsp : undefined));
    else if (kind === "ping") socket.send(rng.chance(0.9) ? "2" : "3");
    else if (kind === "stray-binary") socket.send(rng.bytes(rng.int(0, 64)));
    else {
      const p = sioPacket(rng, nsp);
      socket.send("4" + (rng.chance(0.8) ? p.text : mutate(rng, p.text)));
      for (const a of p.attachments) {
        // a v3 binary frame: its type byte, then the bytes; or b4 + base64
        socket.send(rng.chance(0.8) ? new Uint8Array([4, ...a]) : "b4" + btoa(String.fromCharCode(...a)));
      }
    }
    if (rng.chance(0.3)) await sleep(rng.int(0, 20));
  }
  await socket.close(undefined, 1500);
}

/** Picks a scenario. */
export function scenario(rng: Rng): (ctx: FuzzContext, rng: Rng) => Promise<void> {
  return rng.weighted<(ctx: FuzzContext, rng: Rng) => Promise<void>>([
    [5, pollingSession],
    [6, websocketSession],
    [2, upgradeSession],
    [2, stolenSid],
    [2, garbage],
    [2, v3Session],
  ]);
}
