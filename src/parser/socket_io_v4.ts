/**
 * Socket.IO protocol v4 (socket.io 1.x/2.x, python-socketio 4.x, over Engine.IO v3): where its
 * packets differ from v5's. Events, acks, binary attachments and DISCONNECT are the same; these
 * differ:
 * - The connection joins `/` without a CONNECT from the client: the server sends `0` at once.
 * - Other namespaces are joined with `0/nsp?query,` (no payload: the query takes the place of auth)
 *   and answered with `0/nsp,` (no payload: the socket id is `nsp#` + the Engine.IO id, `/`'s is
 *   the Engine.IO id).
 * - CONNECT_ERROR (`ERROR` in v4) carries the middleware error's `data`, else its message as a string:
 *   `4/nsp,"Invalid namespace"`.
 *
 * @module
 */

import { type Packet, PacketType } from "./socket_io.ts";

/**
 * Splits the namespace of a v4 CONNECT, `/nsp?a=1&b=2`, into the namespace and its query (the
 * socket's handshake auth). Keys such as `__proto__` stay plain own properties.
 *
 * @example
 * ```ts
 * import { splitNamespaceQuery } from "./socket_io_v4.ts";
 * splitNamespaceQuery("/admin?token=abc"); // { name: "/admin", query: { token: "abc" } }
 * ```
 */
export function splitNamespaceQuery(nsp: string): { name: string; query: Record<string, string> } {
  const mark = nsp.indexOf("?");
  const query: Record<string, string> = {};
  if (mark === -1) return { name: nsp, query };
  new URLSearchParams(nsp.slice(mark + 1)).forEach((value, key) => {
    Object.defineProperty(query, key, { value, enumerable: true, writable: true, configurable: true });
  });
  return { name: nsp.slice(0, mark), query };
}

/**
 * The namespace a v4 client puts in its CONNECT: the name, and the auth object as a query string.
 *
 * @example
 * ```ts
 * import { namespaceWithQuery } from "./socket_io_v4.ts";
 * namespaceWithQuery("/admin", { token: "abc" }); // "/admin?token=abc"
 * ```
 */
export function namespaceWithQuery(nsp: string, auth: Record<string, unknown> | undefined): string {
  if (!auth) return nsp;
  const query = new URLSearchParams();
  for (const key in auth) {
    const value = auth[key];
    if (value !== undefined) query.append(key, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  const text = query.toString();
  return text ? nsp + "?" + text : nsp;
}

/**
 * A packet as a v4 peer expects it: CONNECT without payload, CONNECT_ERROR as the error's `data`
 * or else its message. Other packets are returned as they are.
 *
 * @example
 * ```ts
 * import { toV4Packet } from "./socket_io_v4.ts";
 * import { PacketType } from "./socket_io.ts";
 * toV4Packet({ type: PacketType.CONNECT_ERROR, nsp: "/x", data: { message: "Invalid namespace" } });
 * // { type: 4, nsp: "/x", data: "Invalid namespace" }
 * ```
 */
export function toV4Packet(packet: Packet): Packet {
  if (packet.type === PacketType.CONNECT) return { type: PacketType.CONNECT, nsp: packet.nsp };
  if (packet.type === PacketType.CONNECT_ERROR) {
    const data = packet.data;
    if (data !== null && typeof data === "object") {
      return { type: PacketType.CONNECT_ERROR, nsp: packet.nsp, data: data.data || data.message };
    }
  }
  return packet;
}

/**
 * The id of a v4 socket: the Engine.IO id in `/`, `nsp#` + the Engine.IO id elsewhere (a v4
 * client derives it the same way).
 *
 * @example
 * ```ts
 * import { socketIdV4 } from "./socket_io_v4.ts";
 * socketIdV4("/admin", "abc"); // "/admin#abc"
 * ```
 */
export function socketIdV4(nsp: string, engineId: string): string {
  return nsp === "/" ? engineId : nsp + "#" + engineId;
}
