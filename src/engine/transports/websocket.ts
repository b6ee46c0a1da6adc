/**
 * The WebSocket transport: one Engine.IO packet per frame; binary messages are binary frames.
 *
 * @module
 */

import { decodePacket, encodePacket, type EnginePacket } from "../../parser/engine_io.ts";
import { binaryFrameV3, decodeFrameV3, encodeFrameV3 } from "../../parser/engine_io_v3.ts";
import { encodeBase64 } from "../../parser/base64.ts";
import type { V3Framing } from "../protocol_v3.ts";
import type { WebSocketLike } from "../websocket_like.ts";
import { NO_EVENTS, type Transport, type TransportEvents } from "./transport.ts";

const encoder = new TextEncoder();

/**
 * A session's WebSocket.
 *
 * @example
 * ```ts
 * import { WebSocketTransport } from "./websocket.ts";
 * import type { WebSocketLike } from "../websocket_like.ts";
 * const ws: WebSocketLike = { send: (frame) => console.log(frame), close() {} };
 * const transport = new WebSocketTransport(ws, 1e6);
 * transport.send([{ type: "message", data: "hello" }]);
 * ```
 */
export class WebSocketTransport implements Transport {
  /** The transport's name (on the prototype: one field less per session). */
  get name(): "websocket" {
    return "websocket";
  }
  events: TransportEvents = NO_EVENTS;
  /** Engine.IO v3: how the peer takes binary (`undefined`: v4). */
  readonly v3: V3Framing | undefined;
  #socket: WebSocketLike;
  #maxPayload: number;
  #closed = false;
  /** The native topics its socket is subscribed to (Bun), once it is subscribed to one. */
  #topics: Set<string> | undefined;

  /** Wraps an open WebSocket; frames over `maxPayload` bytes close it; `v3` makes it Engine.IO v3. */
  constructor(socket: WebSocketLike, maxPayload: number, v3?: V3Framing) {
    this.#socket = socket;
    this.#maxPayload = maxPayload;
    this.v3 = v3;
  }

  get writable(): boolean {
    return !this.#closed;
  }

  /** Bytes the runtime has queued on the socket. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount ?? 0;
  }

  /** The underlying socket. */
  get socket(): WebSocketLike {
    return this.#socket;
  }

  /**
   * Subscribes its socket to the runtime's native `topic` (once: later calls only tell). False
   * where the runtime offers no native fan-out for it, and for Engine.IO v3 (whose binary frames
   * differ).
   */
  subscribe(topic: string): boolean {
    const socket = this.#socket;
    if (this.#closed || this.v3 !== undefined || socket.publisher === undefined || socket.subscribe === undefined) {
      return false;
    }
    const topics = this.#topics ??= new Set();
    if (!topics.has(topic)) {
      topics.add(topic);
      socket.subscribe(topic);
    }
    return true;
  }

  /** Whether its socket is subscribed to the native `topic`. */
  isSubscribed(topic: string): boolean {
    return !this.#closed && this.#topics?.has(topic) === true;
  }

  /** Unsubscribes its socket from the native `topic`; true when it was subscribed. */
  unsubscribe(topic: string): boolean {
    if (this.#topics?.delete(topic) !== true || this.#closed) return false;
    try {
      this.#socket.unsubscribe?.(topic);
    } catch { /* closing: the runtime drops its subscriptions */ }
    return true;
  }

  /** Feeds a received frame. */
  receive(data: string | Uint8Array): void {
    if (this.#closed) return;
    if (this.#tooLarge(data)) {
      this.#closed = true;
      try {
        this.#socket.close(1009, "Message too big");
      } catch { /* already closing */ }
      this.events.onError("transport error", "message too big");
      return;
    }
    const packet = this.v3 === undefined ? decodePacket(data) : decodeFrameV3(data);
    if (packet === null) {
      this.events.onError("parse error", "invalid packet");
      return;
    }
    this.events.onPacket(packet);
  }

  #tooLarge(data: string | Uint8Array): boolean {
    const max = this.#maxPayload;
    if (typeof data !== "string") return data.byteLength > max;
    if (data.length * 3 <= max) return false;
    if (data.length > max) return true;
    return encoder.encode(data).byteLength > max;
  }

  /** The peer closed the connection. */
  closed(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.events.onClose();
  }

  send(packets: EnginePacket[]): void {
    if (this.#closed) return;
    try {
      const v3 = this.v3;
      for (let i = 0; i < packets.length; i++) {
        const packet = packets[i];
        const frame = v3 === undefined ? encodePacket(packet) : encodeFrameV3(packet, v3.binary);
        if (packet.options?.compress === false) this.#socket.send(frame, false);
        else this.#socket.send(frame);
      }
    } catch (err) {
      this.#closed = true;
      this.events.onError("transport error", String(err));
    }
  }

  /**
   * The frame of a binary message for a v3 peer: the bytes behind their type byte (made once per
   * broadcast, see `withSharedFrames`), or `b4` + base64.
   */
  v3BinaryFrame(bytes: Uint8Array): string | Uint8Array {
    return this.v3!.binary ? binaryFrameV3(bytes) : "b4" + encodeBase64(bytes);
  }

  /** Sends one pre-encoded frame; `compress: false` keeps it uncompressed (permessage-deflate). */
  sendFrame(frame: string | Uint8Array, compress?: boolean): void {
    if (this.#closed) return;
    try {
      if (compress === false) this.#socket.send(frame, false);
      else this.#socket.send(frame);
    } catch (err) {
      this.#closed = true;
      this.events.onError("transport error", String(err));
    }
  }

  close(done?: () => void, reason?: string): void {
    this.discard(reason);
    done?.();
  }

  /** Closes the WebSocket (code 1000), its close frame giving `reason` (the session's, e.g. `ping timeout`). */
  discard(reason = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#socket.close(1000, reason);
    } catch { /* already closed */ }
  }
}
