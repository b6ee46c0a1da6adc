/**
 * Engine.IO v3 at the client's network boundary: a `fetch` and a `WebSocket` that speak v3 to the
 * server and v4 to the transports, so the transports stay as they are. Polling asks for text
 * payloads (`b64=1`); both translate the heartbeat: v3 has the client ping and the server answer,
 * so a server's pong reaches the engine as the ping v4 would have had, and the engine's pong to it
 * goes nowhere (the pings themselves come from `protocol_v4.ts`).
 *
 * @module
 */

import { decodePayload, encodePayload, type EnginePacket } from "../parser/engine_io.ts";
import { binaryFrameV3, decodeTextPayloadV3, encodeTextPayloadV3 } from "../parser/engine_io_v3.ts";
import type { FetchLike, WebSocketConstructor } from "./transports/transport.ts";

/** A request URL for a v3 server: `EIO=3`, and `b64=1` (text payloads) for polling. */
function v3Url(url: string, polling: boolean): string {
  const parsed = new URL(url);
  parsed.searchParams.set("EIO", "3");
  if (polling) parsed.searchParams.set("b64", "1");
  return parsed.href;
}

/** What the engine is to see of a v3 packet: a pong (the answer to our ping) is the server's ping. */
function heartbeatToV4(packet: EnginePacket): EnginePacket {
  return packet.type === "pong" && packet.data === undefined ? { type: "ping" } : packet;
}

/** An answer the polling transport reads: `ok`, `status`, `headers` and `text()`. */
function answer(text: string, status: number, headers: Headers): Response {
  return { ok: true, status, headers, text: () => Promise.resolve(text) } as unknown as Response;
}

/**
 * A `fetch` for the polling transport that speaks Engine.IO v3 to the server: POSTs are re-encoded
 * as v3 payloads (a batch of nothing but pongs is not sent at all), GET answers are read as v3
 * and handed on as v4 payloads.
 *
 * @example
 * ```ts
 * import { legacyFetch } from "./_v3_transports.ts";
 * const fetchV3 = legacyFetch(undefined); // over the global fetch
 * ```
 */
export function legacyFetch(base: FetchLike | undefined): FetchLike {
  return async (input, init) => {
    const doFetch = base ?? fetch;
    const url = v3Url(input, true);
    if (typeof init.body === "string") {
      const packets = (decodePayload(init.body) ?? []).filter((packet) => packet.type !== "pong");
      if (packets.length === 0) return answer("ok", 200, new Headers());
      return doFetch(url, { ...init, body: encodeTextPayloadV3(packets) });
    }
    const response = await doFetch(url, init);
    if (!response.ok) return response;
    const packets = decodeTextPayloadV3(await response.text());
    // A payload v3 cannot read becomes one v4 cannot read either: the transport's parse error.
    return answer(packets ? encodePayload(packets.map(heartbeatToV4)) : "", response.status, response.headers);
  };
}

/** A received v3 frame as the v4 transport reads it. */
function frameToV4(data: unknown): string | ArrayBuffer {
  if (typeof data === "string") {
    if (data === "3") return "2";
    return data.startsWith("b4") ? "b" + data.slice(2) : data;
  }
  const bytes = new Uint8Array(data as ArrayBuffer);
  // A binary frame starts with its type, a message's `4`; anything else fails to decode.
  return bytes[0] === 4 ? bytes.slice(1).buffer : "";
}

/**
 * A `WebSocket` constructor for the WebSocket transport that speaks Engine.IO v3 to the server:
 * binary messages go out with their type byte, and what comes in is handed on as v4 frames.
 *
 * @example
 * ```ts
 * import { legacyWebSocket } from "./_v3_transports.ts";
 * const WebSocketV3 = legacyWebSocket(undefined); // over the global WebSocket
 * ```
 */
export function legacyWebSocket(base: WebSocketConstructor | undefined): WebSocketConstructor {
  class LegacyWebSocket {
    binaryType = "arraybuffer";
    onopen: ((event: Event) => void) | null = null;
    onclose: ((event: CloseEvent) => void) | null = null;
    onerror: ((event: Event) => void) | null = null;
    onmessage: ((event: { data: string | ArrayBuffer }) => void) | null = null;
    readonly #ws: WebSocket;

    constructor(url: string, options?: unknown) {
      const Ctor = (base ?? globalThis.WebSocket) as unknown as new (url: string, options?: unknown) => WebSocket;
      const target = v3Url(url, false);
      const ws = this.#ws = options === undefined ? new Ctor(target) : new Ctor(target, options);
      ws.binaryType = "arraybuffer";
      ws.onopen = (event) => this.onopen?.(event);
      ws.onclose = (event) => this.onclose?.(event);
      ws.onerror = (event) => this.onerror?.(event);
      ws.onmessage = (event) => this.onmessage?.({ data: frameToV4(event.data) });
    }

    get readyState(): number {
      return this.#ws.readyState;
    }

    send(data: string | Uint8Array): void {
      if (data === "3") return; // the engine's pong to a v3 server's pong
      this.#ws.send(typeof data === "string" ? data : binaryFrameV3(data));
    }

    close(code?: number, reason?: string): void {
      this.#ws.close(code, reason);
    }
  }
  return LegacyWebSocket as unknown as WebSocketConstructor;
}
