/**
 * Parsers written for socket.io: a module with `Encoder` and `Decoder` classes (socket.io-parser,
 * socket.io-msgpack-parser, a custom one made the way socket.io's docs show), used as a
 * {@linkcode Parser} by the server's and the client's `parser` option.
 *
 * @module
 */

import { type BinaryLike, toBytes } from "./binary.ts";
import { toNodeBuffer } from "../util/platform.ts";
import type { Decoder, DecoderOptions, Encoder, Packet, Parser } from "./socket_io.ts";

/**
 * A parser module as socket.io takes it: `new Encoder()` whose `encode(packet)` returns the frames
 * (strings, and `Buffer`s / `ArrayBuffer`s / views for binary), `new Decoder(options)` whose
 * `add(frame)` emits `"decoded"` with each packet and throws on malformed input.
 *
 * @example
 * ```ts
 * import type { ParserModule } from "./parser_module.ts";
 * declare const customParser: ParserModule; // import customParser from "socket.io-msgpack-parser"
 * ```
 */
export interface ParserModule {
  /** Encodes packets (into a list of frames, whatever the module's types say). */
  // deno-lint-ignore no-explicit-any
  Encoder: new () => { encode(packet: any): unknown };
  /** Decodes frames, one decoder per connection. */
  // deno-lint-ignore no-explicit-any
  Decoder: new (options?: any) => {
    // deno-lint-ignore no-explicit-any
    add(frame: any): void;
    destroy?(): void;
    // deno-lint-ignore no-explicit-any
    on(event: "decoded", listener: (packet: any) => void): unknown;
  };
}

/**
 * `parser` as a {@linkcode Parser}: ours as it is, a socket.io parser module wrapped (kept small:
 * the client's browser bundle carries it).
 *
 * @example
 * ```ts
 * import { toParser } from "./parser_module.ts";
 * import { defaultParser } from "./socket_io.ts";
 * toParser(defaultParser) === defaultParser; // true
 * ```
 */
export function toParser(parser: Parser | ParserModule): Parser {
  if (typeof (parser as Parser).createEncoder === "function") return parser as Parser;
  const { Encoder: ModuleEncoder, Decoder: ModuleDecoder } = parser as ParserModule;
  if (typeof ModuleEncoder !== "function" || typeof ModuleDecoder !== "function") {
    throw new TypeError("The parser option takes a parser or a module with Encoder and Decoder classes");
  }
  return {
    createEncoder(): Encoder {
      const encoder = new ModuleEncoder();
      // Binary frames as Uint8Arrays (a module may give ArrayBuffers, Buffers, other views).
      return { encode: (packet) => (encoder.encode(packet) as unknown[]).map(toFrame) };
    },
    createDecoder(options?: DecoderOptions): Decoder {
      // A socket.io decoder takes `undefined` as a value, not as "the default": only what is set.
      const set = options && Object.fromEntries(Object.entries(options).filter((entry) => entry[1] !== undefined));
      const inner = new ModuleDecoder(set);
      const decoder: Decoder = {
        ondecoded() {},
        // Modules written for Node may read binary frames with Buffer methods (notepack.io does).
        add: (frame) => inner.add(typeof frame === "string" ? frame : toNodeBuffer(frame)),
        destroy: () => inner.destroy?.(),
      };
      inner.on("decoded", (packet: Packet) => decoder.ondecoded(packet));
      return decoder;
    },
  };
}

function toFrame(frame: unknown): string | Uint8Array {
  return typeof frame === "string" ? frame : toBytes(frame as BinaryLike);
}
