/**
 * The WebSocket transport: one Engine.IO packet per frame, text as text frames and binary messages
 * as binary frames.
 *
 * @module
 */

import { decodePacket, encodePacket, encodePacketText } from "../../parser/engine_io.ts";
import type { EnginePacket } from "../../parser/engine_io.ts";
import { Transport } from "./transport.ts";
import type { TransportOptions, WebSocketConstructor } from "./transport.ts";
import { isBrowser } from "../env.ts";

/**
 * Outside browsers (which take no headers on a WebSocket): a WebSocket whose handshake carries
 * `extraHeaders` and the session cookies, as `new WebSocket(url, { headers })` (Deno, Bun, Node);
 * `undefined` when there are none.
 */
function withHeaders(Ctor: WebSocketConstructor, url: string, opts: TransportOptions): WebSocket | undefined {
  const headers: Record<string, string> = { ...opts.extraHeaders };
  const cookies = opts.cookieJar?.header();
  if (cookies) headers.cookie = cookies;
  // deno-lint-ignore no-explicit-any
  return Object.keys(headers).length ? new (Ctor as any)(url, { headers, protocols: opts.protocols }) : undefined;
}

/**
 * The WebSocket transport, on `opts.WebSocket` or the global `WebSocket` (with
 * `binaryType = "arraybuffer"`). Outside browsers, `extraHeaders` and the session cookies are passed
 * as `{ headers }`, which Deno, Bun and Node accept (on Cloudflare Workers, whose `WebSocket` takes
 * no headers, the engine passes one that opens with a `fetch` instead). Browsers cannot set headers
 * on a WebSocket.
 *
 * @example
 * ```ts
 * import { WebSocketTransport } from "./websocket.ts";
 * const t = new WebSocketTransport({
 *   url: "http://localhost:3000/socket.io/",
 *   query: { EIO: "4", transport: "websocket" },
 *   browser: false,
 * });
 * t.on("packet", (p) => console.log(p));
 * t.open();
 * ```
 */
export class WebSocketTransport extends Transport {
  /** Always `websocket` (on the prototype, as engine.io-client's transports have it). */
  get name(): string {
    return "websocket";
  }
  #ws: WebSocket | undefined;

  /** Opens the WebSocket (with headers outside browsers). */
  protected doOpen(): void {
    const opts = this.opts;
    const Ctor: WebSocketConstructor | undefined = opts.WebSocket ?? globalThis.WebSocket;
    const url = this.uri(opts.url.startsWith("https") ? "wss" : "ws", opts.timestampRequests === true);
    let ws: WebSocket;
    try {
      if (!Ctor) throw new Error("No WebSocket implementation: pass the WebSocket option");
      ws = (!isBrowser && !opts.browser && withHeaders(Ctor, url, opts)) ||
        (opts.protocols ? new Ctor(url, opts.protocols) : new Ctor(url));
    } catch (err) {
      return this.onError("websocket error", err);
    }
    this.#bind(ws);
    ws.onopen = () => this.onOpen();
  }

  #bind(ws: WebSocket): void {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onclose = (event) => {
      if (this.readyState !== "closed") {
        this.onClose({ description: "websocket connection closed", context: event });
      }
    };
    ws.onmessage = (event) => {
      const data = event.data;
      const packet = decodePacket(typeof data === "string" ? data : new Uint8Array(data));
      if (packet === null) this.onError("parse error", data);
      else this.emitReserved("packet", packet);
    };
    ws.onerror = (event) => this.onError("websocket error", event);
  }

  /** Sends one frame per packet; `drain` follows at once. */
  protected write(packets: EnginePacket[]): void {
    const ws = this.#ws!;
    const encode = this.opts.forceBase64 ? encodePacketText : encodePacket;
    for (let i = 0; i < packets.length; i++) {
      try {
        ws.send(encode(packets[i]) as string);
      } catch {
        // The socket closed and its close event is on its way.
      }
    }
    this.emitReserved("drain");
  }

  /** Closes the WebSocket. */
  protected doClose(): void {
    const ws = this.#ws;
    if (ws) {
      ws.onerror = null;
      ws.onmessage = null;
      try {
        ws.close();
      } catch {
        // Already closed.
      }
      this.#ws = undefined;
    }
  }
}
