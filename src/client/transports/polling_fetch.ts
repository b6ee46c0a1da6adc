/**
 * HTTP long-polling over `fetch`: a GET waits for packets from the server, a POST sends a batch.
 * At most one of each is in flight, as Engine.IO v4 requires.
 *
 * @module
 */

import { decodePayload, encodePayload } from "../../parser/engine_io.ts";
import type { EnginePacket } from "../../parser/engine_io.ts";
import { rethrow, Transport } from "./transport.ts";
import { isBrowser } from "../env.ts";
import type { FetchLike } from "./transport.ts";

/**
 * The polling transport. Requests go through `opts.fetch` or the global `fetch`; outside browsers
 * the session cookies are kept in the engine's jar; `extraHeaders` go with every request and
 * `withCredentials` sends cookies cross-origin (`credentials: "include"`).
 *
 * @example
 * ```ts
 * import { PollingTransport } from "./polling_fetch.ts";
 * const t = new PollingTransport({
 *   url: "http://localhost:3000/socket.io/",
 *   query: { EIO: "4", transport: "polling" },
 *   browser: false,
 * });
 * t.on("packet", (p) => console.log(p));
 * t.open();
 * ```
 */
export class PollingTransport extends Transport {
  /** Always `polling` (on the prototype, as engine.io-client's transports have it). */
  get name(): string {
    return "polling";
  }
  #polling = false;
  #onPause: (() => void) | undefined;
  #requests: Set<AbortController> = new Set();

  /** Starts the first poll (the handshake). */
  protected doOpen(): void {
    this.#poll();
  }

  /** Stops polling; `onPause` runs once the GET and POST in flight are answered. */
  override pause(onPause: () => void): void {
    this.readyState = "pausing";
    this.#onPause = onPause;
    this.#checkPause();
  }

  /** Polls again after a pause whose upgrade failed. */
  override resume(): void {
    if (this.readyState !== "pausing" && this.readyState !== "paused") return;
    this.readyState = "open";
    this.#onPause = undefined;
    if (!this.#polling) this.#poll();
  }

  #checkPause(): void {
    if (this.readyState === "pausing" && !this.#polling && this.writable) {
      this.readyState = "paused";
      const onPause = this.#onPause!;
      this.#onPause = undefined;
      onPause();
    }
  }

  #poll(): void {
    this.#polling = true;
    this.#request().then((text) => {
      if (text !== undefined) this.#onData(text);
    }).catch(rethrow);
  }

  #onData(data: string): void {
    if (this.readyState === "closed") return;
    const packets = decodePayload(data);
    if (packets === null) return this.onError("parse error", data);
    for (const packet of packets) {
      if (this.readyState === "opening" && packet.type === "open") this.onOpen();
      if (packet.type === "close") {
        return this.onClose({ description: "transport closed by the server" });
      }
      this.emitReserved("packet", packet);
      if ((this.readyState as string) === "closed") return;
    }
    this.#polling = false;
    if (this.readyState === "open") this.#poll();
    else this.#checkPause();
  }

  /** POSTs the packets as one payload; `drain` follows its answer. */
  protected write(packets: EnginePacket[]): void {
    this.writable = false;
    this.#request(encodePayload(packets)).then((text) => {
      if (text === undefined || this.readyState === "closed") return;
      this.writable = true;
      this.emitReserved("drain");
      this.#checkPause();
    }).catch(rethrow);
  }

  /** Says goodbye with a close packet, then aborts what is still in flight. */
  protected doClose(): void {
    // Every request still out when it is time, the goodbye included: a server that answers
    // neither (or sends headers and then nothing) must not keep a request open for ever.
    const abortAll = () => {
      for (const controller of this.#requests) controller.abort();
    };
    if (this.readyState !== "open") return abortAll();
    // Say goodbye, then drop the pending GET (aborting it first would close the session with an
    // error on the server). A server that does not answer within a second is not waited for.
    const timers = this.timers;
    const timer = timers.set(abortAll, 1000, true);
    this.#send("1").catch(() => {}).finally(() => {
      timers.clear(timer);
      abortAll();
    });
  }

  /** One GET (no body) or POST; resolves with the response text, or undefined after an error. */
  async #request(body?: string): Promise<string | undefined> {
    const what = body === undefined ? "fetch read error" : "fetch write error";
    try {
      const { response, text } = await this.#send(body);
      if (!response.ok) {
        if (this.readyState !== "closed") this.onError(what, response.status, { response, body: text });
        return undefined;
      }
      return text;
    } catch (err) {
      if (this.readyState !== "closed") this.onError(what, err);
      return undefined;
    }
  }

  /** One request, its body read while it can still be aborted (see `doClose`). */
  async #send(body?: string): Promise<{ response: Response; text: string }> {
    const opts = this.opts;
    const headers = new Headers(opts.extraHeaders);
    if (body !== undefined) headers.set("content-type", "text/plain;charset=UTF-8");
    // Outside browsers the session cookies are the engine's jar's (the browser bundles leave it out).
    const jar = opts.cookieJar;
    if (!isBrowser && jar) {
      const cookies = jar.header();
      if (cookies) headers.set("cookie", cookies);
    }
    const controller = new AbortController();
    this.#requests.add(controller);
    // requestTimeout: a request (its answer read too) that takes longer is aborted, and fails.
    const limit = opts.requestTimeout;
    const timeout = limit ? new Error(`Request timed out after ${limit} ms`) : undefined;
    const timer = timeout && this.timers.set(() => controller.abort(timeout), limit!, true);
    try {
      const doFetch: FetchLike = opts.fetch ?? fetch;
      const res = await doFetch(this.uri(undefined, opts.timestampRequests !== false), {
        method: body === undefined ? "GET" : "POST",
        body,
        headers,
        credentials: opts.withCredentials ? "include" : "same-origin",
        signal: controller.signal,
      });
      if (!isBrowser && jar && res.headers.getSetCookie) jar.parse(res.headers.getSetCookie());
      // An error answer's body is only a description: failing to read it is not another error.
      const text = res.ok ? await res.text() : await res.text().catch(() => "");
      return { response: res, text };
    } catch (err) {
      // Aborted by the timeout: the fetch may report the abort rather than its reason.
      throw timeout && controller.signal.reason === timeout ? timeout : err;
    } finally {
      if (timer) this.timers.clear(timer);
      this.#requests.delete(controller);
    }
  }
}
