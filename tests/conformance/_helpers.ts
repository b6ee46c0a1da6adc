/**
 * Raw-protocol helpers for the conformance suites: buffered WebSocket events, waits with
 * deadlines (a test fails instead of hanging), and polling requests that always consume bodies.
 * Only web-standard globals (`fetch`, `WebSocket`) and node: built-ins: runs on Deno, Bun and Node.
 *
 * @module
 */

import { deadline, sleep } from "../_helpers.ts";

export { deadline, sleep, until } from "../_helpers.ts";

/**
 * Polls `url` (a polling session that never answers pings) until it is refused: 200s carry the
 * pings, then the server's ping timeout closes the session. Returns the refusal; fails if the
 * session is still there after `ms`. (The official suite sleeps exactly pingInterval +
 * pingTimeout and polls once: a race with the server's timer.)
 */
export async function pollUntilRefused(url: string, ms: number): Promise<TextResponse> {
  const end = Date.now() + ms;
  for (;;) {
    const poll = await request(url, {}, Math.max(1, end - Date.now()));
    if (poll.status !== 200 || Date.now() > end) return poll;
  }
}

type EventName = "open" | "close" | "message" | "error";

/** A WebSocket whose events are buffered until a test waits for them. */
export interface TestSocket {
  ws: WebSocket;
  /** The next event of that type (buffered or future); rejects after `ms`. */
  waitFor(type: "message", ms?: number): Promise<MessageEvent>;
  waitFor(type: "close", ms?: number): Promise<CloseEvent>;
  waitFor(type: "open" | "error", ms?: number): Promise<Event>;
  /** The next `count` messages that are not the ping packet `"2"`. */
  waitForPackets(count: number, ms?: number): Promise<Array<string | ArrayBuffer>>;
  /** The next message that is not the ping packet `"2"`. */
  next(ms?: number): Promise<string | ArrayBuffer>;
  /** From now on, answers every ping with a pong (so only the server's verdict can close it). */
  answerPings(): void;
  send(data: string | Uint8Array): void;
  close(): void;
  readonly closed: boolean;
}

const open = new Set<WebSocket>();

/** Opens a WebSocket (binaryType `arraybuffer`) that buffers open/close/message/error events. */
export function createWebSocket(url: string): TestSocket {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  open.add(ws);
  const buffers: Record<EventName, Event[]> = { open: [], close: [], message: [], error: [] };
  const waiters: Record<EventName, Array<(e: Event) => void>> = {
    open: [],
    close: [],
    message: [],
    error: [],
  };
  let closed: CloseEvent | undefined;
  // A message can no longer come once the socket closed: its waiters fail at once and say how it
  // closed (a close the test did not expect then reads as one, not as a missing message).
  const messageLost = () =>
    new Error(
      `WebSocket ${url} closed (code ${closed!.code}${
        closed!.reason ? `, "${closed!.reason}"` : ""
      }) while waiting for a message`,
    );
  const failed: Array<(err: Error) => void> = [];
  for (const type of Object.keys(buffers) as EventName[]) {
    ws.addEventListener(type, (event: Event) => {
      if (type === "close") {
        closed = event as CloseEvent;
        open.delete(ws);
        waiters.message.length = 0;
        for (const fail of failed.splice(0)) fail(messageLost());
      }
      const waiter = waiters[type].shift();
      if (waiter) waiter(event);
      else buffers[type].push(event);
    });
  }
  function waitFor(type: EventName, ms = 3000): Promise<Event> {
    const buffered = buffers[type].shift();
    if (buffered) return Promise.resolve(buffered);
    if (type === "message" && closed) return Promise.reject(messageLost());
    let resolver!: (e: Event) => void;
    let rejecter!: (err: Error) => void;
    const promise = new Promise<Event>((resolve, reject) => {
      resolver = resolve;
      rejecter = reject;
      waiters[type].push(resolve);
      if (type === "message") failed.push(reject);
    });
    return deadline(promise, ms, `WebSocket "${type}" on ${url}`).finally(() => {
      const i = waiters[type].indexOf(resolver);
      if (i >= 0) waiters[type].splice(i, 1);
      const j = failed.indexOf(rejecter);
      if (j >= 0) failed.splice(j, 1);
    });
  }
  const socket: TestSocket = {
    ws,
    waitFor: waitFor as TestSocket["waitFor"],
    async waitForPackets(count, ms = 3000) {
      const end = Date.now() + ms;
      const packets: Array<string | ArrayBuffer> = [];
      while (packets.length < count) {
        const { data } = (await waitFor("message", Math.max(1, end - Date.now()))) as MessageEvent;
        if (data === "2") continue;
        packets.push(data);
      }
      return packets;
    },
    async next(ms = 3000) {
      return (await socket.waitForPackets(1, ms))[0];
    },
    answerPings() {
      ws.addEventListener("message", (event: MessageEvent) => {
        if (event.data === "2" && ws.readyState === WebSocket.OPEN) ws.send("3");
      });
    },
    send(data) {
      ws.send(data);
    },
    close() {
      ws.close();
    },
    get closed() {
      return closed !== undefined;
    },
  };
  return socket;
}

/** Closes every WebSocket still open (call it in `afterEach`). */
export function closeAllWebSockets(): void {
  for (const ws of open) {
    try {
      ws.close();
    } catch {
      // already closing
    }
  }
  open.clear();
}

/** A response with its body read as text. */
export interface TextResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** `fetch` that always reads the body (no leaked streams) and rejects after `ms`. */
export async function request(
  url: string,
  init: RequestInit = {},
  ms = 3000,
): Promise<TextResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`Timed out after ${ms} ms: ${url}`)), ms);
  try {
    const response = await fetch(url, { ...init, signal: init.signal ?? controller.signal });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  } finally {
    clearTimeout(timer);
  }
}

/** Raw Engine.IO polling client for one path (`/engine.io/` or `/socket.io/`). */
export class Polling {
  readonly base: string;
  readonly #probe: string;
  sid = "";
  constructor(url: string, path: string) {
    this.base = `${url}${path}?EIO=4&transport=polling`;
    this.#probe = `${url}/fixture/parked?engine=${path.replaceAll("/", "")}`;
  }
  /** Opens a session and returns the parsed open packet. */
  async open(): Promise<Record<string, unknown>> {
    const res = await request(this.base);
    if (res.status !== 200 || !res.text.startsWith("0")) {
      throw new Error(`Handshake failed: ${res.status} ${res.text}`);
    }
    const handshake = JSON.parse(res.text.substring(1));
    this.sid = handshake.sid;
    return handshake;
  }
  get url(): string {
    return `${this.base}&sid=${this.sid}`;
  }
  get(ms = 3000): Promise<TextResponse> {
    return request(this.url, {}, ms);
  }
  /**
   * Resolves once the server holds a GET of this session (or `request`, that GET, settled), asking
   * the fixture's probe (`answerParkedProbe` in `tests/fixture/fixture.ts`): a request sent next
   * arrives while the GET waits, where two connections alone give no order.
   */
  async untilHeld(request_: Promise<unknown>, ms = 3000): Promise<void> {
    let settled = false;
    request_.then(() => settled = true, () => settled = true);
    const end = Date.now() + ms;
    while (!settled) {
      const probe = await request(`${this.#probe}&sid=${this.sid}`);
      if (probe.status !== 200) throw new Error(`Probe failed: ${probe.status} ${probe.text}`);
      if (probe.text === "true") return;
      if (Date.now() > end) throw new Error(`The server did not hold the GET within ${ms} ms`);
      await sleep(5);
    }
  }
  /** Starts a GET and resolves once the server holds it (see `untilHeld`); `response` is its answer. */
  async heldGet(ms = 3000): Promise<{ response: Promise<TextResponse> }> {
    const response = this.get(ms);
    await this.untilHeld(response, ms);
    return { response };
  }
  post(body: string, ms = 3000): Promise<TextResponse> {
    return request(this.url, { method: "POST", body }, ms);
  }
  /**
   * Polls until `count` packets other than pings arrived (pings are answered with a pong),
   * returning them in order.
   */
  async packets(count: number, ms = 3000): Promise<string[]> {
    const end = Date.now() + ms;
    const packets: string[] = [];
    while (packets.length < count) {
      const res = await this.get(Math.max(1, end - Date.now()));
      if (res.status !== 200) throw new Error(`Poll failed: ${res.status} ${res.text}`);
      for (const packet of res.text.split("\x1e")) {
        if (packet === "2") {
          const pong = await this.post("3");
          if (pong.status !== 200) throw new Error(`Pong failed: ${pong.status} ${pong.text}`);
        } else packets.push(packet);
      }
    }
    return packets;
  }
}

/** The bytes of a binary message as a Uint8Array (fails on text). */
export function bytes(data: string | ArrayBuffer | Blob): Uint8Array {
  if (typeof data === "string") throw new Error(`Expected a binary frame, got text ${JSON.stringify(data)}`);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new Error(`Expected an ArrayBuffer, got ${Object.prototype.toString.call(data)}`);
}
