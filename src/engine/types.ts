/**
 * The engine's public shapes: what the io layer (or any user of the bare engine) sees of a session.
 *
 * @module
 */

import type { EnginePacket } from "../parser/engine_io.ts";
import type { Transport } from "./transports/transport.ts";

/** The request that opened a session, as the io layer exposes it in `socket.handshake`. */
export interface HandshakeRequest {
  /** The full URL of the first request (query included). */
  url: URL;
  /** Its headers. */
  headers: Headers;
  /** Its method. */
  method: string;
  /** The peer's address, where the runtime tells; `""` otherwise. */
  remoteAddress: string;
  /** Whether it came over TLS (`https:`/`wss:`, or `x-forwarded-proto: https`). */
  secure: boolean;
}

/** Why a session closed. */
export type EngineCloseReason =
  | "transport close"
  | "transport error"
  | "ping timeout"
  | "parse error"
  | "forced close"
  | "server shutting down"
  | "transport full";

/** The ready states of a session. */
export type EngineReadyState = "opening" | "open" | "closing" | "closed";

/**
 * A packet as the session's observers see it (`packet`, `packetCreate`, `flush`): engine.io's
 * shape, with the write options on outgoing ones.
 */
export interface ObservedPacket extends EnginePacket {
  /** The write options of an outgoing packet (`compress` is `true` unless a write said `false`). */
  options?: WriteOptions;
}

/**
 * Events of a session, as engine.io's socket emits them. The per-packet ones (`packet`,
 * `packetCreate`, `flush`, `drain`) cost nothing while nobody listens.
 */
export interface EngineSocketEvents {
  /** A message from the peer: text or binary. */
  message: (data: string | Uint8Array) => void;
  /** The session closed; emitted once. */
  close: (reason: EngineCloseReason, description?: unknown) => void;
  /** The session moved to a new transport (WebSocket): `transport.name` tells which. */
  upgrade: (transport: Transport) => void;
  /** A probe arrived on the new transport: the upgrade is under way. */
  upgrading: (transport: Transport) => void;
  /** A pong (or, on Engine.IO v3, a ping) showed the peer is alive. */
  heartbeat: () => void;
  /** A packet arrived from the peer (heartbeats included). */
  packet: (packet: ObservedPacket) => void;
  /** A packet is about to be queued for the peer (heartbeats and messages). */
  packetCreate: (packet: ObservedPacket) => void;
  /** These packets are being handed to the transport. */
  flush: (packets: ObservedPacket[]) => void;
  /** Everything buffered was handed to the transport. */
  drain: () => void;
  /** The transport failed (a bad frame or payload, a broken connection); `close` follows. */
  error: (err: Error) => void;
}

/** Options of one write. */
export interface WriteOptions {
  /** Ask the transport to compress (honoured where the runtime supports it). */
  compress?: boolean;
}
