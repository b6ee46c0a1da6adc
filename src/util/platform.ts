/**
 * The one place where the core asks which runtime it runs on: timers that should not keep a
 * process alive, Node's `Buffer` where there is one, the environment, the process id, and the
 * runtime's name. Everything is feature detection on `globalThis` (no import of a runtime's
 * module), so this file loads in browsers and Workers too; every other core file goes through it
 * (`tests/boundary.test.ts` checks that).
 *
 * @module
 */

/** The globals of other runtimes this module reads, as far as it reads them. */
interface RuntimeGlobals {
  Deno?: {
    unrefTimer?(id: number): void;
    upgradeWebSocket?: unknown;
    env?: { get(name: string): string | undefined };
    createHttpClient?(options: Record<string, unknown>): unknown;
    permissions?: { querySync?(descriptor: { name: "env"; variable: string }): { state: string } };
    pid?: number;
  };
  Bun?: unknown;
  WebSocketPair?: unknown;
  process?: {
    env?: Record<string, string | undefined>;
    pid?: number;
    versions?: { node?: string };
    getBuiltinModule?(name: string): unknown;
  };
  Buffer?: NodeBufferConstructor;
  document?: unknown;
  WebSocket?: unknown;
  [undiciDispatcher: symbol]: { constructor?: new (options: Record<string, unknown>) => unknown } | undefined;
}

const runtimeGlobals = globalThis as unknown as RuntimeGlobals;

/**
 * Lets the process exit while `timer` is pending (Deno, Node and Bun; nothing elsewhere): for
 * housekeeping timers that must not keep a server alive on their own.
 *
 * @example
 * ```ts
 * import { unrefTimer } from "./platform.ts";
 * const timer = setInterval(() => {}, 60_000);
 * unrefTimer(timer);
 * clearInterval(timer);
 * ```
 */
export function unrefTimer(timer: ReturnType<typeof setTimeout> | ReturnType<typeof setInterval>): void {
  const unref = (timer as unknown as { unref?: () => void }).unref;
  if (typeof unref === "function") {
    unref.call(timer);
    return;
  }
  // Deno before 2.5 gives timers as numbers.
  if (typeof timer === "number") runtimeGlobals.Deno?.unrefTimer?.(timer);
}

/** The part of Node's `Buffer` (also in Bun and Deno) the parser uses. */
export interface NodeBufferConstructor {
  /** A view of `length` bytes of `buffer` from `byteOffset` (no copy). */
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): NodeBufferLike;
  /** Decodes base64 text. */
  from(text: string, encoding: "base64"): NodeBufferLike;
  /** Whether `value` is a `Buffer`. */
  isBuffer(value: unknown): boolean;
}

/** A `Buffer` as the parser uses it. */
export type NodeBufferLike = Uint8Array & { toString(encoding: "base64"): string };

/**
 * Node's `Buffer` constructor where the runtime has one (Node, Bun, Deno), `undefined` elsewhere.
 *
 * @example
 * ```ts
 * import { nodeBuffer } from "./platform.ts";
 * const base64 = nodeBuffer?.from(new Uint8Array([1]).buffer, 0, 1).toString("base64"); // "AQ=="
 * ```
 */
export const nodeBuffer: NodeBufferConstructor | undefined = runtimeGlobals.Buffer;

/**
 * `bytes` as Node's `Buffer` (a view of the same memory, no copy) where the runtime has one
 * (Node, Bun, Deno): for code written for Node that takes only Buffers (socket.io parser modules
 * such as socket.io-msgpack-parser); `bytes` as they are elsewhere.
 *
 * @example
 * ```ts
 * import { toNodeBuffer } from "./platform.ts";
 * const buffer = toNodeBuffer(new Uint8Array([1, 2])); // a Buffer on Node, Bun and Deno
 * ```
 */
export function toNodeBuffer(bytes: Uint8Array): Uint8Array {
  const Buffer = nodeBuffer;
  if (Buffer === undefined || Buffer.isBuffer(bytes)) return bytes;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * How received binary reaches user code: on Node as a `Buffer` (a `Uint8Array` subclass, over the
 * same memory), as socket.io delivers it there, and on Bun too (where socket.io apps also run, and
 * whose WebSocket gives Buffers already); `undefined` on other runtimes (Deno, Workers, browsers),
 * where it stays the `Uint8Array` it is.
 *
 * @example
 * ```ts
 * import { receivedBinary } from "./platform.ts";
 * const bytes = new Uint8Array([1]);
 * const delivered = receivedBinary ? receivedBinary(bytes) : bytes;
 * ```
 */
export const receivedBinary: ((bytes: Uint8Array) => Uint8Array) | undefined = /* @__PURE__ */ binaryOnThisRuntime();

function binaryOnThisRuntime(): ((bytes: Uint8Array) => Uint8Array) | undefined {
  const runtime = detectRuntime();
  return runtime === "node" || runtime === "bun" ? toNodeBuffer : undefined;
}

/**
 * The environment variable `name` where the runtime has an environment (Node, Bun; Deno only when
 * env access is granted already: never a permission prompt for this); `undefined` elsewhere.
 *
 * @example
 * ```ts
 * import { readEnv } from "./platform.ts";
 * const pattern = readEnv("DEBUG");
 * ```
 */
export function readEnv(name: string): string | undefined {
  try {
    const deno = runtimeGlobals.Deno;
    if (deno?.env) {
      const state = deno.permissions?.querySync?.({ name: "env", variable: name }).state;
      return state === "granted" ? deno.env.get(name) : undefined;
    }
    return runtimeGlobals.process?.env?.[name];
  } catch {
    return undefined;
  }
}

/**
 * This process's id where the runtime tells (Node, Bun, Deno); 0 elsewhere.
 *
 * @example
 * ```ts
 * import { processId } from "./platform.ts";
 * processId() >= 0; // true
 * ```
 */
export function processId(): number {
  return runtimeGlobals.process?.pid ?? runtimeGlobals.Deno?.pid ?? 0;
}

/**
 * A built-in module of Node's (`http`, `https`...) where the runtime gives them without an import
 * (`process.getBuiltinModule`: Node 22.3+, Bun, Deno); `undefined` elsewhere.
 *
 * @example
 * ```ts
 * import { nodeBuiltinModule } from "./platform.ts";
 * const http = nodeBuiltinModule("http") as typeof import("node:http") | undefined;
 * ```
 */
export function nodeBuiltinModule(name: string): unknown {
  const get = runtimeGlobals.process?.getBuiltinModule;
  return typeof get === "function" ? get.call(runtimeGlobals.process, `node:${name}`) : undefined;
}

/** The TLS settings each runtime's own `fetch` and `WebSocket` take. */
const NATIVE_TLS: Record<string, readonly string[]> = {
  node: ["ca", "cert", "key", "passphrase", "pfx", "ciphers", "rejectUnauthorized"],
  deno: ["ca", "cert", "key"],
  bun: ["ca", "cert", "key", "passphrase", "rejectUnauthorized"],
};

/**
 * What to add to every `fetch` init and `WebSocket` options of this runtime's own client so that
 * it honours the TLS settings `tls` (`ca` a list of PEM strings, `cert` and `key` PEM strings, the
 * others as Node's `tls` takes them), or `undefined` where its own client cannot take them all:
 * Deno takes `ca`, `cert` and `key` through an HTTP client of its own (`client`), Bun all but
 * `pfx` and `ciphers` as its `tls` option, Node all of them through an `Agent` of the undici inside
 * it (`dispatcher`).
 *
 * @example
 * ```ts
 * import { nativeTlsInit } from "./platform.ts";
 * const extra = nativeTlsInit({ ca: ["-----BEGIN CERTIFICATE-----..."] });
 * if (extra) await fetch("https://localhost:3000/", { ...extra });
 * ```
 */
export function nativeTlsInit(tls: Record<string, unknown>): Record<string, unknown> | undefined {
  const runtime = detectRuntime();
  const takes = NATIVE_TLS[runtime];
  if (takes === undefined || !Object.keys(tls).every((name) => takes.includes(name))) return undefined;
  if (runtime === "deno") {
    const client = runtimeGlobals.Deno?.createHttpClient?.({ caCerts: tls.ca, cert: tls.cert, key: tls.key });
    return client === undefined ? undefined : { client };
  }
  if (runtime === "bun") return { tls };
  // Node: the class of its global dispatcher (reading the global WebSocket loads undici, which
  // sets it).
  void runtimeGlobals.WebSocket;
  const Agent = runtimeGlobals[Symbol.for("undici.globalDispatcher.1")]?.constructor;
  if (typeof Agent !== "function" || Agent.name !== "Agent") return undefined;
  return { dispatcher: new Agent({ connect: tls }) };
}

/** The name of the runtime this code runs on. */
export type RuntimeName = "deno" | "bun" | "node" | "workerd" | "browser" | "unknown";

/**
 * Which runtime this is.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "./platform.ts";
 * const runtime = detectRuntime(); // "deno" under Deno
 * ```
 */
export function detectRuntime(): RuntimeName {
  if (typeof runtimeGlobals.Deno?.upgradeWebSocket === "function") return "deno";
  if (runtimeGlobals.Bun !== undefined) return "bun";
  if (typeof runtimeGlobals.WebSocketPair === "function") return "workerd";
  if (runtimeGlobals.process?.versions?.node) return "node";
  if (runtimeGlobals.document !== undefined) return "browser";
  return "unknown";
}

/**
 * Whether the platform compresses HTTP answers itself, by the client's own `Accept-Encoding`:
 * Workers, where the code sees Cloudflare's `Accept-Encoding: br, gzip` whatever the client sent
 * (and workerd passes a body compressed here to a client that sent none). There the server leaves
 * HTTP compression to the platform.
 *
 * @example
 * ```ts
 * import { platformCompressesHttp } from "./platform.ts";
 * platformCompressesHttp(); // false outside Workers
 * ```
 */
export function platformCompressesHttp(): boolean {
  return detectRuntime() === "workerd";
}
