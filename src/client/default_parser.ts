/**
 * The client's packet format when `parser` is not given: socket.io's JSON format. A module of its
 * own so that the browser build of `socket.io.msgpack.min.js` swaps in the msgpack format (as
 * socket.io-client's msgpack bundle does), leaving the rest of the client as it is.
 *
 * @module
 */

import { defaultParser as jsonParser, type Parser } from "../parser/socket_io.ts";

/**
 * The packet format of a client without a `parser` option.
 *
 * @example
 * ```ts
 * import { clientDefaultParser } from "./default_parser.ts";
 * const encoder = clientDefaultParser.createEncoder();
 * ```
 */
export const clientDefaultParser: Parser = jsonParser;
