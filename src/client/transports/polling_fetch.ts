/**
 * HTTP long-polling over `fetch`: a GET waits for packets from the server, a POST sends a batch.
 * At most one of each is in flight, as Engine.IO v4 requires.
 *
 * @module
 */

import { decodePayload, encodePayload } from "../../parser/engine_io.ts";
import type { EnginePacket } from "../../parser/engine_io.ts";
import { rethrow, Transport } from "./transport.ts";
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
  /** Always `polling`. */
  readonly name: string = "polling";
  #polling = false;
  #onPause: (() => void) | undefined;
  #requests: Set<AbortController> = new Set();

  protected doOpen(): void {
    this.#poll();
  }

  override pause(onPause: () => void): void {
    this.readyState = "pausing";
    this.#onPause = onPause;
    this.#checkPause();
  }

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

  protected write(packets: EnginePacket[]): void {
    this.writable = false;
    this.#request(encodePayload(packets)).then((text) => {
      if (text === undefined || this.readyState === "closed") return;
      this.writable = true;
      this.emitReserved("drain");
      this.#checkPause();
    }).catch(rethrow);
  }

  protected doClose(): void {
    const requests = [...this.#requests];
    const abort = () => requests.forEach((c) => c.abort());
    if (this.readyState !== "open") return abort();
    // Say goodbye, then drop the pending GET (aborting it first would close the session with an
    // error on the server). A server that does not answer within a second is not waited for.
    const timer = setTimeout(abort, 1000);
    this.#send("1").then((res) => res.body?.cancel()).catch(() => {}).finally(() => {
      clearTimeout(timer);
      abort();
    });
  }

  /** One GET (no body) or POST; resolves with the response text, or undefined after an error. */
  async #request(body?: string): Promise<string | undefined> {
    const what = body === undefined ? "fetch read error" : "fetch write error";
    try {
      const res = await this.#send(body);
      if (!res.ok) {
        const text = await res.text().catch(() => "");
        if (this.readyState !== "closed") this.onError(what, res.status, { response: res, body: text });
        return undefined;
      }
      return await res.text();
    } catch (err) {
      if (this.readyState !== "closed") this.onError(what, err);
      return undefined;
    }
  }

  async #send(body?: string): Promise<Response> {
    const opts = this.opts;
    const headers = new Headers(opts.extraHeaders);
    if (body !== undefined) headers.set("content-type", "text/plain;charset=UTF-8");
    const cookies = opts.cookieJar?.header();
    if (cookies) headers.set("cookie", cookies);
    const controller = new AbortController();
    this.#requests.add(controller);
    try {
      const doFetch: FetchLike = opts.fetch ?? fetch;
      const res = await doFetch(this.uri(undefined, opts.timestampRequests !== false), {
        method: body === undefined ? "GET" : "POST",
        body,
        headers,
        credentials: opts.withCredentials ? "include" : "same-origin",
        signal: controller.signal,
      });
      if (opts.cookieJar && res.headers.getSetCookie) opts.cookieJar.parse(res.headers.getSetCookie());
      return res;
    } finally {
      this.#requests.delete(controller);
    }
  }
}
