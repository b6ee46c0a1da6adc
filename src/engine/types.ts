/**
 * The engine's public shapes: what the io layer (or any user of the bare engine) sees of a session.
 *
 * @module
 */

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

/** Events of a session. */
export interface EngineSocketEvents {
  /** A message from the peer: text or binary. */
  message: (data: string | Uint8Array) => void;
  /** The session closed; emitted once. */
  close: (reason: EngineCloseReason, description?: unknown) => void;
  /** The session moved to WebSocket. */
  upgrade: (transport: string) => void;
  /** A probe arrived: the upgrade is under way. */
  upgrading: (transport: string) => void;
  /** A pong (or any packet) showed the peer is alive. */
  heartbeat: () => void;
  /** Everything buffered was handed to the transport. */
  drain: () => void;
}

/** Options of one write. */
export interface WriteOptions {
  /** Ask the transport to compress (honoured where the runtime supports it). */
  compress?: boolean;
}
