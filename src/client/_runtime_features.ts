/**
 * What the client needs of its runtime beyond web standards, found by feature detection:
 * unreferenced timers, the `fetch` and `WebSocket` that honour TLS settings and `autoUnref`
 * outside browsers, and on Workers a `WebSocket` that can send headers. What it asks of the runtime
 * goes through `src/util/platform.ts`; the browser bundles replace this file by a stub.
 *
 * @module
 */

import { encodeBase64 } from "../parser/base64.ts";
import { isWorkers } from "./env.ts";
import { nodeFetch, nodeWebSocket } from "./_node_transports.ts";
import type { NodeModules } from "./_node_transports.ts";
import type { TimerId } from "./timers.ts";
import type { FetchLike, TlsOptions, WebSocketConstructor } from "./transports/transport.ts";
import { detectRuntime, nativeTlsInit, nodeBuiltinModule, unrefTimer as unrefPlatformTimer } from "../util/platform.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The runtime, for the TLS settings its own `fetch` and `WebSocket` take (none on Workers). */
const runtime: "deno" | "bun" | "node" | undefined = (() => {
  const name = detectRuntime();
  return name === "deno" || name === "bun" || (name === "node" && !isWorkers) ? name : undefined;
})();

/** The runtime's name, for messages. */
const runtimeLabel = runtime === undefined ? "this runtime" : runtime[0].toUpperCase() + runtime.slice(1);

/**
 * Makes a timer keep no process alive (the platform module's `unrefTimer`, where the runtime has a
 * process); nothing elsewhere.
 *
 * @example
 * ```ts
 * import { unrefTimer } from "./_runtime_features.ts";
 * unrefTimer(setTimeout(() => console.log("only if something else keeps the process up"), 1000));
 * ```
 */
export function unrefTimer(id: TimerId): void {
  if (id !== undefined) unrefPlatformTimer(id);
}

/**
 * The `fetch` and `WebSocket` of a client whose options the global ones cannot honour.
 *
 * @example
 * ```ts
 * import { platformTransports } from "./_runtime_features.ts";
 * import type { PlatformTransports } from "./_runtime_features.ts";
 * const transports: PlatformTransports | undefined = platformTransports({ autoUnref: true });
 * ```
 */
export interface PlatformTransports {
  /** For polling. */
  fetch: FetchLike;
  /** For WebSocket. */
  WebSocket: WebSocketConstructor;
}

const TLS_KEYS = ["ca", "cert", "key", "passphrase", "pfx", "ciphers", "rejectUnauthorized"] as const;

/** One per distinct setting, so reconnections reuse the same (Deno's HTTP clients are not free). */
const cache = new Map<string, PlatformTransports>();

const text = (value: string | Uint8Array): string =>
  typeof value === "string" ? value : new TextDecoder().decode(value);

/**
 * The `fetch` and `WebSocket` for these options outside browsers, or `undefined` when the global
 * ones do: with TLS settings, the runtime's own where it takes them all (the platform module's
 * `nativeTlsInit` says how), otherwise its HTTPS module; with `autoUnref`, its HTTP(S) modules with
 * unreferenced sockets. Throws a `TypeError`
 * when the runtime can do neither (TLS settings on Workers).
 *
 * @example
 * ```ts
 * import { platformTransports } from "./_runtime_features.ts";
 * const transports = platformTransports({ ca: "-----BEGIN CERTIFICATE-----..." });
 * const response = await transports!.fetch("https://localhost:3000/", {});
 * ```
 */
export function platformTransports(
  opts: TlsOptions & { autoUnref?: boolean; agent?: unknown },
): PlatformTransports | undefined {
  const tls: Record<string, unknown> = {};
  let id = opts.autoUnref ? "unref" : "";
  for (const name of TLS_KEYS) {
    const value = opts[name];
    // rejectUnauthorized: true is what every runtime does anyway.
    if (value === undefined || (name === "rejectUnauthorized" && value !== false)) continue;
    if (name === "ca") tls.ca = ([] as Array<string | Uint8Array>).concat(value as string).map(text);
    else if (name === "cert" || name === "key") tls[name] = text(value as string);
    else tls[name] = value;
    const fingerprint = value instanceof Uint8Array ? encodeBase64(value) : JSON.stringify(tls[name]);
    id += "\0" + name + "=" + fingerprint;
  }
  const names = Object.keys(tls);
  if (opts.agent) {
    // An http.Agent (a proxy agent, say) is for node:http(s); that holds nothing to cache.
    const modules = nodeModules();
    if (!modules) throw new TypeError(`The agent option needs node:http, which ${runtimeLabel} lacks`);
    const settings = { tls, agent: opts.agent, unref: opts.autoUnref === true };
    return { fetch: nodeFetch(modules, settings), WebSocket: nodeWebSocket(modules, settings) };
  }
  if (!opts.autoUnref && names.length === 0) return undefined;
  let found = cache.get(id);
  if (!found) {
    found = create(tls, names, opts.autoUnref === true);
    if (found) cache.set(id, found);
  }
  return found;
}

/**
 * The `fetch` and `WebSocket` a connection with these options uses: the ones given, or else those
 * {@linkcode platformTransports} finds (`undefined`: the global ones). Throws as it does.
 *
 * @example
 * ```ts
 * import { resolveTransports } from "./_runtime_features.ts";
 * const { fetch, WebSocket } = resolveTransports({ autoUnref: true });
 * ```
 */
export function resolveTransports(
  opts: TlsOptions & { autoUnref?: boolean; agent?: unknown; fetch?: FetchLike; WebSocket?: WebSocketConstructor },
): { fetch?: FetchLike; WebSocket?: WebSocketConstructor } {
  const found = opts.fetch && opts.WebSocket ? undefined : platformTransports(opts);
  return {
    fetch: opts.fetch ?? found?.fetch,
    WebSocket: opts.WebSocket ?? found?.WebSocket ?? (isWorkers ? workersWebSocket(opts.fetch) : undefined),
  };
}

/**
 * Workers: `new WebSocket(url, { headers })` throws there. With headers, the socket comes from a
 * `fetch` with `Upgrade: websocket` instead, and is open once accepted.
 */
function workersWebSocket(doFetch: FetchLike | undefined): WebSocketConstructor {
  const NativeWebSocket = g.WebSocket;
  class FetchedWebSocket {
    binaryType = "blob";
    readyState = 0;
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: unknown) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    onclose: ((event: unknown) => void) | null = null;
    #ws: WebSocket | undefined;

    constructor(url: string, headers: Record<string, string>, protocols?: string | string[]) {
      const upgrade = new Headers(headers);
      upgrade.set("upgrade", "websocket");
      if (protocols) upgrade.set("sec-websocket-protocol", ([] as string[]).concat(protocols).join(", "));
      (doFetch ?? fetch)(url.replace(/^ws/, "http"), { headers: upgrade }).then((res) => {
        const ws = (res as Response & { webSocket?: (WebSocket & { accept(): void }) | null }).webSocket;
        if (!ws) throw new Error(`The server did not upgrade (HTTP ${res.status})`);
        ws.accept();
        if (this.readyState === 3) return ws.close();
        this.#ws = ws;
        ws.binaryType = this.binaryType as BinaryType;
        ws.onmessage = (event) => this.onmessage?.(event);
        ws.onerror = (event) => this.onerror?.(event);
        ws.onclose = (event) => {
          this.readyState = 3;
          this.onclose?.(event);
        };
        this.readyState = 1;
        this.onopen?.({ type: "open" });
      }).catch((err) => {
        if (this.readyState === 3) return;
        this.readyState = 3;
        this.onerror?.({ type: "error", error: err, message: err?.message });
        this.onclose?.({ code: 1006, reason: "", wasClean: false });
      });
    }

    send(data: string | ArrayBufferLike | ArrayBufferView): void {
      if (!this.#ws) throw new Error("The WebSocket is not open yet");
      this.#ws.send(data);
    }

    close(code?: number, reason?: string): void {
      if (this.#ws) this.#ws.close(code, reason);
      else this.readyState = 3;
    }
  }
  return function (url: string, init?: WebSocketInit) {
    if (typeof init === "object" && !Array.isArray(init)) {
      if (init.headers && Object.keys(init.headers).length) {
        return new FetchedWebSocket(url, init.headers, init.protocols);
      }
      init = init.protocols;
    }
    return init === undefined ? new NativeWebSocket(url) : new NativeWebSocket(url, init);
  } as unknown as WebSocketConstructor;
}

function create(tls: Record<string, unknown>, names: string[], unref: boolean): PlatformTransports | undefined {
  if (!runtime) {
    // autoUnref: there is no process to keep alive here.
    if (names.length === 0) return undefined;
    throw new TypeError(
      `The ${names.join(", ")} option${names.length > 1 ? "s" : ""} cannot be honoured here: ` +
        "this runtime's fetch and WebSocket take no TLS settings",
    );
  }
  const native = unref ? undefined : nativeTlsInit(tls);
  if (native) return withInit(native);
  const modules = nodeModules();
  if (!modules) {
    throw new TypeError(
      `The ${
        unref ? "autoUnref" : names.join(", ")
      } option needs process.getBuiltinModule("node:https") on ${runtimeLabel}`,
    );
  }
  const settings = { tls, unref };
  return { fetch: nodeFetch(modules, settings), WebSocket: nodeWebSocket(modules, settings) };
}

function nodeModules(): NodeModules | undefined {
  const http = nodeBuiltinModule("http") as NodeModules["http"] | undefined;
  const https = nodeBuiltinModule("https") as NodeModules["https"] | undefined;
  return http && https ? { http, https, unrefTimer } : undefined;
}

type WebSocketInit =
  | string
  | string[]
  | { headers?: Record<string, string>; protocols?: string | string[] }
  | undefined;

/** The global `fetch` and `WebSocket` with `extra` added to every request and handshake. */
function withInit(extra: Record<string, unknown>): PlatformTransports {
  const NativeWebSocket = g.WebSocket;
  return {
    fetch: (input, init) => fetch(input, { ...init, ...extra }),
    WebSocket: function (url: string, init?: WebSocketInit) {
      const options = typeof init === "object" && !Array.isArray(init)
        ? { ...init }
        : init === undefined
        ? {}
        : { protocols: init };
      return new NativeWebSocket(url, { ...options, ...extra });
    } as unknown as WebSocketConstructor,
  };
}
