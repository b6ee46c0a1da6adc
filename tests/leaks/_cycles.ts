/**
 * One connect/disconnect cycle per close path, spoken in raw Engine.IO/Socket.IO (v4/v5, and
 * socket.io-client 2.x's v3/v4 for the heartbeat the client drives) so that each path is exactly
 * the one named. Every cycle connects to `/` and `/custom`, joins a room on each,
 * then ends its session one way. Each returns once the client side is done; the server may need
 * its timers (heartbeat, upgrade timeout) to finish the job — the caller waits for the counters.
 *
 * @module
 */

import { FuzzSocket, http, sleep, within } from "../fuzz/_wire.ts";

/** Where the target listens. */
export interface CycleTarget {
  httpBase: string;
  wsBase: string;
}

type Cycle = (t: CycleTarget, n: number) => Promise<void>;

/** Engine.IO message frames: CONNECT `/` and `/custom`, then join a room on each. */
const JOIN = (n: number) => [`40`, `40/custom,`, `42["join","room-${n}"]`, `42/custom,["join","room-${n}"]`];

async function wsOpen(t: CycleTarget, n: number, answerPings = true): Promise<FuzzSocket> {
  const ws = new FuzzSocket(`${t.wsBase}?EIO=4&transport=websocket`);
  ws.answerPings = answerPings;
  if (!(await within(ws.opened, 5000, "WebSocket open"))) throw new Error("WebSocket did not open");
  const open = await ws.firstText(5000);
  if (!open?.startsWith("0{")) throw new Error(`open packet: ${open}`);
  const connected = waitText(ws, (d) => d.startsWith("40/custom,{"));
  for (const frame of JOIN(n)) ws.send(frame);
  await within(connected, 5000, "CONNECT /custom");
  return ws;
}

function waitText(ws: FuzzSocket, match: (data: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    const on = (e: MessageEvent) => {
      if (typeof e.data === "string" && match(e.data)) {
        ws.ws.removeEventListener("message", on);
        resolve(e.data);
      }
    };
    ws.ws.addEventListener("message", on);
  });
}

async function pollOpen(t: CycleTarget, n: number): Promise<string> {
  const hs = await http(`${t.httpBase}?EIO=4&transport=polling`);
  if (hs.status !== 200 || !hs.text.startsWith("0{")) throw new Error(`handshake ${hs.status} ${hs.text}`);
  const url = `${t.httpBase}?EIO=4&transport=polling&sid=${JSON.parse(hs.text.slice(1)).sid}`;
  // A GET waits from the start, as a client's does: with none waiting, a ping goes unseen, and on a
  // loaded machine the handshake and the POST can outlast pingInterval + pingTimeout (the session
  // then ends by ping timeout before the cycle's own close path).
  let poll = http(url, {}, 5000);
  const post = await http(url, { method: "POST", body: JOIN(n).join("\x1e") });
  if (post.status !== 200) throw new Error(`POST ${post.status} ${post.text}`);
  let got = "";
  for (let i = 0; i < 5 && !got.includes("40/custom,{"); i++) {
    if (i > 0) poll = http(url, {}, 5000);
    const res = await poll;
    if (res.status !== 200) throw new Error(`GET ${res.status} ${res.text}`);
    got += res.text;
    // On a loaded machine the setup can outlast a ping interval: answer, so only the cycle's own
    // close path ends the session.
    if (res.text.split("\x1e").includes("2")) await http(url, { method: "POST", body: "3" });
  }
  if (!got.includes("40/custom,{")) throw new Error(`no CONNECT reply: ${got}`);
  return url;
}

/** Engine.IO v3 (socket.io-client 2.x) over WebSocket: `/` is joined by the server itself. */
async function wsOpenV3(t: CycleTarget, n: number): Promise<FuzzSocket> {
  const ws = new FuzzSocket(`${t.wsBase}?EIO=3&transport=websocket`);
  ws.answerPings = false; // the server does not ping in v3
  if (!(await within(ws.opened, 5000, "WebSocket open"))) throw new Error("WebSocket did not open");
  const open = await ws.firstText(5000);
  if (!open?.startsWith("0{")) throw new Error(`open packet: ${open}`);
  const connected = waitText(ws, (d) => d === "40/custom,");
  for (const frame of JOIN(n).slice(1)) ws.send(frame);
  await within(connected, 5000, "CONNECT /custom");
  return ws;
}

/** Engine.IO v3 over polling (text payloads): the same, in length-prefixed payloads. */
async function pollOpenV3(t: CycleTarget, n: number): Promise<string> {
  const hs = await http(`${t.httpBase}?EIO=3&transport=polling&b64=1`);
  const open = /^\d+:0(\{[^}]*\})/.exec(hs.text);
  if (hs.status !== 200 || !open) throw new Error(`handshake ${hs.status} ${hs.text}`);
  const url = `${t.httpBase}?EIO=3&transport=polling&sid=${JSON.parse(open[1]).sid}`;
  const body = JOIN(n).slice(1).map((frame) => `${frame.length}:${frame}`).join("");
  const post = await http(url, { method: "POST", body });
  if (post.status !== 200) throw new Error(`POST ${post.status} ${post.text}`);
  let got = hs.text;
  for (let i = 0; i < 5 && !got.includes("10:40/custom,"); i++) {
    // the client pings in v3: on a loaded machine the setup can outlast a ping interval
    await http(url, { method: "POST", body: "1:2" });
    const res = await http(url, {}, 5000);
    if (res.status !== 200) throw new Error(`GET ${res.status} ${res.text}`);
    got += res.text;
  }
  if (!got.includes("10:40/custom,")) throw new Error(`no CONNECT reply: ${got}`);
  return url;
}

/** The close paths, by name. */
export const CYCLES: Record<string, Cycle> = {
  /** The client closes its WebSocket. */
  async "websocket: client close"(t, n) {
    const ws = await wsOpen(t, n);
    await ws.close();
  },
  /** The client sends DISCONNECT for both namespaces and the Engine.IO close packet. */
  async "websocket: client disconnect packets"(t, n) {
    const ws = await wsOpen(t, n);
    ws.send("41/custom,");
    ws.send("41");
    ws.send("1");
    await within(ws.closedPromise, 5000, "server closes").catch(() => {});
    await ws.close();
  },
  /** The client sends the close packet over polling. */
  async "polling: client close"(t, n) {
    const url = await pollOpen(t, n);
    await http(url, { method: "POST", body: "1" });
  },
  /** The server disconnects the whole connection (`socket.disconnect(true)`). */
  async "websocket: server close"(t, n) {
    const ws = await wsOpen(t, n);
    ws.send('42["disconnect-me",true]');
    await within(ws.closedPromise, 5000, "server closes");
  },
  /** The server disconnects the whole connection while the client polls. */
  async "polling: server close"(t, n) {
    const url = await pollOpen(t, n);
    const poll = http(url, {}, 5000);
    await http(url, { method: "POST", body: '42["disconnect-me",true]' });
    const res = await poll;
    if (!res.text.includes("1")) await http(url, {}, 5000); // the close packet, if not in that poll
  },
  /** The server disconnects one namespace, then the client closes. */
  async "websocket: namespace disconnect"(t, n) {
    const ws = await wsOpen(t, n);
    const gone = waitText(ws, (d) => d === "41/custom,");
    ws.send('42/custom,["disconnect-me",false]');
    await within(gone, 5000, "DISCONNECT /custom");
    await ws.close();
  },
  /** The client stops answering pings on a WebSocket. */
  async "websocket: ping timeout"(t, n) {
    const ws = await wsOpen(t, n, false);
    await within(ws.closedPromise, 5000, "ping timeout closes the WebSocket");
  },
  /** The client stops polling. */
  async "polling: ping timeout"(t, n) {
    await pollOpen(t, n);
  },
  /** An Engine.IO v3 client stops pinging on a WebSocket (in v3 the client pings). */
  async "v3 websocket: ping timeout"(t, n) {
    const ws = await wsOpenV3(t, n);
    await within(ws.closedPromise, 5000, "ping timeout closes the WebSocket");
  },
  /** An Engine.IO v3 client stops polling and pinging. */
  async "v3 polling: ping timeout"(t, n) {
    await pollOpenV3(t, n);
  },
  /** A malformed frame on WebSocket (parse error). */
  async "websocket: transport error"(t, n) {
    const ws = await wsOpen(t, n);
    ws.send(n % 2 ? "x" : "2"); // unknown packet type / a ping from the client
    await within(ws.closedPromise, 5000, "server closes");
  },
  /** Two GETs at once on polling (transport error). */
  async "polling: transport error"(t, n) {
    const url = await pollOpen(t, n);
    await Promise.all([http(url, {}, 3000), http(url, {}, 3000)]);
  },
  /** The client gives up on a GET before it is answered. */
  async "polling: aborted poll"(t, n) {
    const url = await pollOpen(t, n);
    await http(url, {}, 3000, 20);
  },
  /** The upgrade is probed but never completed, and the client walks away from both transports. */
  async "upgrade: never finishes (probed)"(t, n) {
    const url = await pollOpen(t, n);
    const ws = new FuzzSocket(`${t.wsBase}?EIO=4&transport=websocket&sid=${new URL(url).searchParams.get("sid")}`);
    if (await ws.opened) {
      const probe = waitText(ws, (d) => d === "3probe");
      ws.send("2probe");
      await within(Promise.race([probe, ws.closedPromise]), 5000, "3probe").catch(() => {});
    }
    // neither "5" nor any more polling: the upgrade timeout and the heartbeat must clean up
    await within(ws.closedPromise, 5000, "the server drops the unfinished upgrade").catch(() => {});
    await ws.close(undefined, 500);
  },
  /** A WebSocket opened with the sid but never probed; the client closes it, then the session. */
  async "upgrade: never probed"(t, n) {
    const url = await pollOpen(t, n);
    const ws = new FuzzSocket(`${t.wsBase}?EIO=4&transport=websocket&sid=${new URL(url).searchParams.get("sid")}`);
    await ws.opened;
    await sleep(5);
    await ws.close(undefined, 1000);
    await http(url, { method: "POST", body: "1" });
  },
  /** A completed upgrade, then the client closes the WebSocket. */
  async "upgrade: completed, client close"(t, n) {
    const url = await pollOpen(t, n);
    const ws = new FuzzSocket(`${t.wsBase}?EIO=4&transport=websocket&sid=${new URL(url).searchParams.get("sid")}`);
    if (!(await ws.opened)) throw new Error("upgrade WebSocket did not open");
    const probe = waitText(ws, (d) => d === "3probe");
    ws.send("2probe");
    // Nobody answers pings meanwhile: under load the heartbeat may end the session first (then
    // the server closes this WebSocket, which is a close path too).
    const got = await within(Promise.race([probe, ws.closedPromise.then(() => "closed")]), 5000, "3probe");
    if (got === "3probe") ws.send("5");
    await ws.close();
  },
};
