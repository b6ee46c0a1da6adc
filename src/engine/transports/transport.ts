/**
 * What a session needs of a transport.
 *
 * @module
 */

import type { EnginePacket } from "../../parser/engine_io.ts";
import type { TransportName } from "../options.ts";

/** The callbacks a transport reports to its session. */
export interface TransportEvents {
  /** A packet arrived. */
  onPacket(packet: EnginePacket): void;
  /** The transport failed (bad input, overlapping requests, aborted poll). */
  onError(reason: "transport error" | "parse error", description: string): void;
  /** The peer closed the transport. */
  onClose(): void;
  /** The transport can take packets again. */
  onDrain(): void;
}

/** A session's transport: HTTP long-polling or WebSocket. */
export interface Transport {
  /** Its name. */
  readonly name: TransportName;
  /** Whether `send` would go out now. */
  readonly writable: boolean;
  /** Bytes handed to the network and not sent yet, where the runtime tells (0 otherwise). */
  readonly bufferedAmount: number;
  /** Where its events go; the session sets it. */
  events: TransportEvents;
  /** Sends packets; only called while `writable`. */
  send(packets: EnginePacket[]): void;
  /**
   * Closes from the server side; `done` runs once the peer was told (or could not be). `reason`:
   * why the session ended, where the transport can say so (a WebSocket's close frame).
   */
  close(done?: () => void, reason?: string): void;
  /** Stops using it (after an upgrade, or once the session ended: `reason`, as for `close`). */
  discard(reason?: string): void;
}

/** A transport's events before a session owns it: they are dropped. */
export const NO_EVENTS: TransportEvents = {
  onPacket() {},
  onError() {},
  onClose() {},
  onDrain() {},
};
