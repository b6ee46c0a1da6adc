/**
 * Ways to put bytes on the wire for the fuzzer: `fetch` with a deadline, raw HTTP over `node:net`
 * (truncated bodies, lying Content-Length, half-sent requests, connections dropped mid-way), and
 * WebSockets whose every failure is swallowed. Nothing here throws: a failure is a result.
 * Runs on Deno, Bun and Node.
 *
 * @module
 */

import { connect } from "node:net";

import { deadline as within, sleep } from "../_helpers.ts";

export { sleep, within };

/** An HTTP answer, or why there was none. */
export interface HttpResult {
  status: number;
  text: string;
  /** Set when the request failed (network error, abort, timeout). */
  error?: string;
}

/**
 * `fetch` that always consumes the body and never throws; `abortAfterMs` aborts it on purpose
 * (an "aborted poll").
 */
export async function http(
  url: string,
  init: RequestInit = {},
  ms = 5000,
  abortAfterMs?: number,
): Promise<HttpResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("timeout")), abortAfterMs ?? ms);
  try {
    const response = await fetch(url, { ...init, signal: controller.signal });
    const text = await response.text();
    return { status: response.status, text };
  } catch (err) {
    // The cause says what the network did ("connection closed before message completed"…).
    const cause = (err as { cause?: unknown }).cause;
    return {
      status: 0,
      text: "",
      error: (String(err) + (cause === undefined ? "" : ` (cause: ${cause})`)).slice(0, 300),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Request options that give the fuzzer's control clients connections of their own where the
 * runtime can (Deno: a separate HTTP client). With one shared pool, a connection the attack
 * traffic left in a bad state could be reused for a control request and fail it, which would read
 * as the server losing a well-behaved client's message.
 */
export const CONTROL_HTTP: RequestInit = (() => {
  const deno = (globalThis as { Deno?: { createHttpClient?: (options: object) => unknown } }).Deno;
  return deno?.createHttpClient ? { client: deno.createHttpClient({}) } as RequestInit : {};
})();

/**
 * Sends raw bytes to 127.0.0.1:`port` and reads the status code of the answer (0 if none).
 * `cutAfterMs` destroys the connection that long after writing (to drop a request half-way);
 * otherwise the answer is awaited for at most `ms`.
 */
export function rawHttp(
  port: number,
  data: string | Uint8Array,
  options: { cutAfterMs?: number; ms?: number } = {},
): Promise<{ status: number; head: string }> {
  const ms = options.ms ?? 3000;
  return new Promise((resolve) => {
    let head = "";
    let done = false;
    const socket = connect({ port, host: "127.0.0.1" });
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(cut);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: match ? Number(match[1]) : 0, head: head.slice(0, 200) });
    };
    const timer = setTimeout(finish, ms);
    let cut: ReturnType<typeof setTimeout> | undefined;
    socket.on("error", finish);
    socket.on("close", finish);
    socket.on("data", (chunk: Uint8Array) => {
      if (head.length < 4096) head += new TextDecoder().decode(chunk);
      // One answer is all we wait for (keep-alive would hold the socket open).
      if (/\r\n\r\n/.test(head)) {
        const length = /content-length:\s*(\d+)/i.exec(head);
        const body = head.slice(head.indexOf("\r\n\r\n") + 4);
        if (!length || body.length >= Number(length[1])) finish();
      }
    });
    socket.on("connect", () => {
      socket.write(data);
      if (options.cutAfterMs !== undefined) cut = setTimeout(finish, options.cutAfterMs);
    });
  });
}

/** A WebSocket opened for fuzzing: frames received are counted, every failure is swallowed. */
export class FuzzSocket {
  readonly ws: WebSocket;
  readonly opened: Promise<boolean>;
  readonly closedPromise: Promise<void>;
  closed = false;
  received = 0;
  /** The first text frame (the Engine.IO open packet, on a new session). */
  first: string | undefined;
  #firstWaiters: Array<(text: string | undefined) => void> = [];

  constructor(url: string) {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      // an invalid URL: behave as a socket that never opened
      this.ws = undefined as unknown as WebSocket;
      this.closed = true;
      this.opened = Promise.resolve(false);
      this.closedPromise = Promise.resolve();
      return;
    }
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve) => {
      ws.addEventListener("open", () => resolve(true));
      ws.addEventListener("error", () => resolve(false));
      ws.addEventListener("close", () => resolve(false));
    });
    this.closedPromise = new Promise((resolve) => {
      ws.addEventListener("close", () => {
        this.closed = true;
        for (const w of this.#firstWaiters.splice(0)) w(undefined);
        resolve();
      });
    });
    ws.addEventListener("error", () => {});
    ws.addEventListener("message", (event: MessageEvent) => {
      this.received++;
      if (this.first === undefined && typeof event.data === "string") {
        this.first = event.data;
        for (const w of this.#firstWaiters.splice(0)) w(event.data);
      }
      // Answer pings so that a session lives as long as the fuzzer wants it to.
      if (event.data === "2" && this.answerPings) this.send("3");
    });
  }

  /** Whether `2` gets a `3` back. */
  answerPings = true;

  /** The first text frame, or undefined if the socket closed (or `ms` passed) first. */
  firstText(ms = 3000): Promise<string | undefined> {
    if (this.first !== undefined || this.closed) return Promise.resolve(this.first);
    return within(new Promise<string | undefined>((resolve) => this.#firstWaiters.push(resolve)), ms, "first frame")
      .catch(() => undefined);
  }

  /** Sends a frame if the socket is open; returns whether it was sent. */
  send(data: string | Uint8Array): boolean {
    if (this.closed || this.ws.readyState !== 1) return false;
    try {
      this.ws.send(data);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes (with a code if given) and waits at most `ms` for the close. */
  async close(code?: number, ms = 2000): Promise<void> {
    if (this.ws === undefined) return;
    try {
      if (code === undefined) this.ws.close();
      else this.ws.close(code);
    } catch {
      try {
        this.ws.close();
      } catch { /* closed */ }
    }
    await within(this.closedPromise, ms, "WebSocket close").catch(() => {});
  }
}
