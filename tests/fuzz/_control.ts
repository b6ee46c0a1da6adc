/**
 * Control clients: well-behaved Socket.IO clients that keep exchanging events while the fuzzer
 * runs, and check that nothing they expect goes missing. Each speaks the wire protocol directly
 * (no client library, so a client bug cannot pass for a server one):
 * - `websocket`: a WebSocket-only session;
 * - `polling`: a long-polling session (one GET always pending, POSTs serialised);
 * - `upgrade`: opens over polling, upgrades to WebSocket (probe, `5`), then as `websocket`.
 *
 * Every tick sends `message-with-ack` (expects the ack, same payload, in order), `message`
 * (expects `message-back`), and on WebSocket a binary `message-with-ack` (expects the bytes back).
 *
 * @module
 */

import { CONTROL_HTTP, http, sleep, within } from "./_wire.ts";

/** What a control client saw. */
export interface ControlStats {
  kind: string;
  sent: number;
  received: number;
  /** Sent and never answered (counted at stop). */
  lost: number;
  /** Answers that did not match what was sent, or came out of order. */
  wrong: number;
  /** Why the session ended early, if it did. */
  failure?: string;
  latencies: number[];
}

type Kind = "websocket" | "polling" | "upgrade";

interface Expect {
  key: string;
  sentAt: number;
}

/** A control client. */
export class Control {
  readonly kind: Kind;
  readonly stats: ControlStats;
  #base: string;
  #wsBase: string;
  #sid = "";
  #ws: WebSocket | null = null;
  #stopped = false;
  #expect: Expect[] = [];
  #seq = 0;
  #connected = Promise.withResolvers<void>();
  #postChain: Promise<unknown> = Promise.resolve();
  #pollLoop: Promise<void> | null = null;
  #pendingBinary: { key: string } | null = null;

  constructor(kind: Kind, httpBase: string, wsBase: string) {
    this.kind = kind;
    this.#base = httpBase;
    this.#wsBase = wsBase;
    this.stats = { kind, sent: 0, received: 0, lost: 0, wrong: 0, latencies: [] };
  }

  #fail(why: string): void {
    if (this.#stopped || this.stats.failure) return;
    this.stats.failure = why;
  }

  /** Opens the session and connects to `/`. */
  async start(): Promise<void> {
    if (this.kind === "websocket") {
      await this.#openWs(`${this.#wsBase}?EIO=4&transport=websocket`, false);
    } else {
      const res = await http(`${this.#base}?EIO=4&transport=polling`, CONTROL_HTTP);
      if (res.status !== 200 || !res.text.startsWith("0")) {
        throw new Error(`control handshake: ${res.status} ${res.text}`);
      }
      this.#sid = JSON.parse(res.text.slice(1)).sid;
      this.#pollLoop = this.#poll();
      await this.#post("40");
      if (this.kind === "upgrade") {
        await within(this.#connected.promise, 5000, "control CONNECT over polling");
        await this.#openWs(`${this.#wsBase}?EIO=4&transport=websocket&sid=${this.#sid}`, true);
      }
    }
    await within(this.#connected.promise, 5000, `control ${this.kind} CONNECT`);
  }

  get #url(): string {
    return `${this.#base}?EIO=4&transport=polling&sid=${this.#sid}`;
  }

  #post(body: string): Promise<unknown> {
    const next = this.#postChain.then(async () => {
      if (this.#ws !== null && this.kind === "upgrade" && this.#upgraded) return;
      const res = await http(this.#url, { ...CONTROL_HTTP, method: "POST", body }, 8000);
      if (res.status !== 200 && !this.#stopped) {
        this.#fail(`POST ${body.slice(0, 40)}: ${res.status} ${res.text}${res.error ?? ""}`);
      }
    });
    this.#postChain = next.catch(() => {});
    return next;
  }

  #upgraded = false;
  /** Set once the probe is answered: no further GET, as a real client pauses polling. */
  #pausing = false;

  async #poll(): Promise<void> {
    while (!this.#stopped && !this.#upgraded && !this.#pausing) {
      const res = await http(this.#url, CONTROL_HTTP, 8000);
      if (this.#stopped || this.#upgraded) return;
      if (res.status !== 200) {
        this.#fail(`GET: ${res.status} ${res.text} ${res.error ?? ""}`);
        return;
      }
      for (const packet of res.text.split("\x1e")) {
        if (packet === "2") this.#post("3");
        else if (packet === "6") continue;
        else if (packet === "1") {
          this.#fail("server closed the polling session");
          return;
        } else if (packet.startsWith("4")) this.#onSio(packet.slice(1));
        else if (packet.startsWith("b")) this.#onBinary(Uint8Array.from(atob(packet.slice(1)), (c) => c.charCodeAt(0)));
      }
    }
  }

  async #openWs(url: string, upgrade: boolean): Promise<void> {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const opened = Promise.withResolvers<void>();
    const probed = Promise.withResolvers<void>();
    ws.addEventListener("open", () => opened.resolve());
    ws.addEventListener("error", () => opened.reject(new Error("control WebSocket error")));
    ws.addEventListener("close", (event: CloseEvent) => {
      opened.reject(new Error("control WebSocket closed"));
      if (!this.#stopped) this.#fail(`WebSocket closed by the server (${event.code} ${event.reason})`);
    });
    ws.addEventListener("message", (event: MessageEvent) => {
      const data = event.data;
      if (typeof data !== "string") return this.#onBinary(new Uint8Array(data as ArrayBuffer));
      if (data === "2") ws.send("3");
      else if (data === "3probe") probed.resolve();
      else if (data.startsWith("0")) {
        // open packet of a WebSocket-only session: connect to "/"
        ws.send("40");
      } else if (data === "1") this.#fail("server sent close");
      else if (data.startsWith("4")) this.#onSio(data.slice(1));
    });
    await within(opened.promise, 5000, "control WebSocket open");
    this.#ws = ws;
    if (upgrade) {
      ws.send("2probe");
      await within(probed.promise, 5000, "control 3probe");
      // Pause polling first: the GET out ends (the server answers it once probed) and a pong in
      // flight lands; one arriving after the upgrade would be refused as a transport mismatch.
      this.#pausing = true;
      await this.#pollLoop;
      await this.#postChain;
      ws.send("5");
      this.#upgraded = true;
    }
  }

  #onSio(text: string): void {
    if (text.startsWith("0")) {
      this.#connected.resolve();
      return;
    }
    if (text.startsWith("4") || text.startsWith("1")) {
      this.#fail(`unexpected packet ${text.slice(0, 80)}`);
      return;
    }
    if (text.startsWith("61-")) {
      // binary ack: the text part; the bytes follow
      const m = /^61-(\d+)\[/.exec(text);
      this.#pendingBinary = { key: `b${m?.[1]}` };
      return;
    }
    let key: string;
    const ack = /^3(\d+)([\s\S]*)$/.exec(text);
    if (ack) key = `a${ack[1]}:${ack[2]}`;
    else if (text.startsWith('2["message-back"')) key = `m:${text.slice('2["message-back",'.length, -1)}`;
    else {
      this.#fail(`unexpected packet ${text.slice(0, 80)}`);
      return;
    }
    this.#settle(key);
  }

  #onBinary(bytes: Uint8Array): void {
    const pending = this.#pendingBinary;
    this.#pendingBinary = null;
    if (!pending) {
      this.#fail("binary frame without a binary packet");
      return;
    }
    this.#settle(`${pending.key}:${Array.from(bytes).join(".")}`);
  }

  #settle(key: string): void {
    const i = this.#expect.findIndex((e) => e.key === key);
    if (i === -1) {
      this.stats.wrong++;
      this.#fail(`answer nobody expected: ${key.slice(0, 80)}`);
      return;
    }
    // Acks and echoes of one connection come back in the order they were sent.
    if (i !== 0) this.stats.wrong++;
    const [e] = this.#expect.splice(i, 1);
    this.stats.received++;
    this.stats.latencies.push(performance.now() - e.sentAt);
  }

  /** Sends one round of events. */
  tick(): void {
    if (this.#stopped || this.stats.failure) return;
    const n = ++this.#seq;
    const payload = JSON.stringify({ n, kind: this.kind, s: "é\u2028" + "x".repeat(n % 50) });
    const now = performance.now();
    const frames: Array<string | Uint8Array> = [`42${n}["message-with-ack",${payload}]`, `42["message",${payload}]`];
    this.#expect.push({ key: `a${n}:[${payload}]`, sentAt: now }, { key: `m:${payload}`, sentAt: now });
    this.stats.sent += 2;
    const onWs = this.#ws !== null && (this.kind !== "upgrade" || this.#upgraded);
    if (onWs && n % 2 === 0) {
      const bytes = new Uint8Array([n & 255, (n >> 8) & 255, 1, 2, 3]);
      frames.push(`451-${n + 100000}["message-with-ack",{"_placeholder":true,"num":0}]`, bytes);
      this.#expect.push({ key: `b${n + 100000}:${Array.from(bytes).join(".")}`, sentAt: now });
      this.stats.sent++;
    }
    if (onWs) {
      for (const f of frames) {
        try {
          this.#ws!.send(f);
        } catch (err) {
          this.#fail(`send failed: ${err}`);
        }
      }
    } else {
      this.#post(frames.map((f) => typeof f === "string" ? f : "b" + btoa(String.fromCharCode(...f))).join("\x1e"));
    }
  }

  /** How long the oldest unanswered message has waited, in ms. */
  oldestWait(): number {
    return this.#expect.length === 0 ? 0 : performance.now() - this.#expect[0].sentAt;
  }

  /** Waits (at most `ms`) for every answer, then closes the session. */
  async stop(ms = 5000): Promise<ControlStats> {
    const end = Date.now() + ms;
    while (this.#expect.length > 0 && Date.now() < end && !this.stats.failure) await sleep(20);
    this.stats.lost = this.#expect.length;
    this.#stopped = true;
    if (this.#ws) {
      const ws = this.#ws;
      const closed = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
      try {
        ws.send("1");
        ws.close();
      } catch { /* closed already */ }
      await within(closed, 2000, "control close").catch(() => {});
    }
    if (!this.#upgraded && this.kind !== "websocket") {
      await this.#postChain;
      await http(this.#url, { ...CONTROL_HTTP, method: "POST", body: "1" }, 2000);
      await within(this.#pollLoop ?? Promise.resolve(), 3000, "control poll loop").catch(() => {});
    }
    return this.stats;
  }
}
