/**
 * The seam for an older wire protocol: what a client speaking Socket.IO v4 over Engine.IO v3 (the
 * Manager's `protocol: 4`) changes. Only types here: the one implementation is `protocol_v4.ts`,
 * which the browser bundles leave out.
 *
 * @module
 */

import type { Parser } from "../parser/socket_io.ts";
import type { Engine } from "./engine.ts";
import type { Manager } from "./manager.ts";

/**
 * How a client speaks an older protocol (the Manager's `protocol` option selects it).
 *
 * @example
 * ```ts
 * import type { ClientWire } from "./wire.ts";
 * function describe(wire: ClientWire | undefined): string {
 *   return wire ? "Socket.IO v4" : "Socket.IO v5";
 * }
 * ```
 */
export interface ClientWire {
  /**
   * Makes `manager` speak it: sets its engines' `wire`, `fetch` and `WebSocket` options (which
   * translate to and from the older transport framing), and returns the parser its packets go
   * through.
   */
  attach(manager: Manager): Parser;
  /** An engine completed its handshake; `ping` sends a ping (Engine.IO v3: the client pings). */
  open(engine: Engine, ping: () => void): void;
}
