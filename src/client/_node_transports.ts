/**
 * A `fetch` and a `WebSocket` over `node:http` and `node:https`, which Deno, Bun and Node all have.
 * The client uses them for `autoUnref` (their sockets are unreferenced, so the connection keeps no
 * process alive, as socket.io-client's do) and for TLS settings a runtime's own `fetch` and
 * `WebSocket` cannot take. `_runtime_features.ts` hands the modules in: this file names no runtime.
 *
 * The WebSocket speaks RFC 6455 as a client: the opening handshake (with its accept check),
 * masked frames out, fragmented messages, ping/pong and the closing handshake in; no extensions.
 *
 * @module
 */

import { encodeBase64 } from "../parser/base64.ts";
import { concatBytes } from "../parser/binary.ts";
import { decompressBody } from "../util/compression.ts";
import type { FetchLike, WebSocketConstructor } from "./transports/transport.ts";

/** A listener of a Node event emitter. */
// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => void;

/** The part of a `net.Socket` / `tls.TLSSocket` used here. */
interface NodeSocket {
  on(event: string, listener: Listener): unknown;
  write(data: Uint8Array): unknown;
  end(): unknown;
  destroy(): unknown;
  unref(): unknown;
  setNoDelay?(noDelay: boolean): unknown;
}

/** The part of an `http.IncomingMessage` used here. */
interface NodeResponse {
  statusCode?: number;
  headers: Record<string, string | string[] | undefined>;
  on(event: string, listener: Listener): unknown;
  resume?(): unknown;
}

/** The part of an `http.ClientRequest` used here. */
interface NodeRequest {
  on(event: string, listener: Listener): unknown;
  end(body?: Uint8Array): unknown;
  destroy(): unknown;
}

/** The part of `node:http` and `node:https` used here. */
interface NodeHttp {
  request(url: URL, options: Record<string, unknown>): NodeRequest;
}

/**
 * What the transports here need from the runtime.
 *
 * @example
 * ```ts
 * import type { NodeModules } from "./_node_transports.ts";
 * import { nodeBuiltinModule, unrefTimer } from "../util/platform.ts";
 * const [http, https] = [nodeBuiltinModule("http"), nodeBuiltinModule("https")];
 * const modules = http && https ? { http, https, unrefTimer } as NodeModules : undefined;
 * ```
 */
export interface NodeModules {
  /** `node:http`. */
  http: NodeHttp;
  /** `node:https`. */
  https: NodeHttp;
  /** Makes a timer keep no process alive. */
  unrefTimer(id: ReturnType<typeof setTimeout>): void;
}

/**
 * How the requests are made.
 *
 * @example
 * ```ts
 * import type { NodeSettings } from "./_node_transports.ts";
 * const settings: NodeSettings = { tls: { rejectUnauthorized: false }, unref: true };
 * ```
 */
export interface NodeSettings {
  /** TLS settings for `https.request`, as `tls.connect` takes them. */
  tls: Record<string, unknown>;
  /** The `http.Agent` to use (a proxy agent, say); default: none, a connection per request. */
  agent?: unknown;
  /** Whether the sockets keep no process alive. */
  unref: boolean;
}

/** The options of a request with these settings. */
function requestOptions(settings: NodeSettings, secure: boolean): Record<string, unknown> {
  return { agent: settings.agent ?? false, ...(secure ? settings.tls : undefined) };
}

/**
 * A `fetch` for the polling transport over `node:http(s)`: text or no body, the whole answer read
 * before it resolves, `signal` honoured; with `unref`, its sockets keep no process alive.
 *
 * @example
 * ```ts
 * import { nodeFetch } from "./_node_transports.ts";
 * import type { NodeModules } from "./_node_transports.ts";
 * declare const modules: NodeModules;
 * const doFetch = nodeFetch(modules, { tls: { ca: "-----BEGIN CERTIFICATE-----..." }, unref: true });
 * const text = await (await doFetch("https://localhost:3000/socket.io/?EIO=4&transport=polling", {})).text();
 * ```
 */
export function nodeFetch(modules: NodeModules, settings: NodeSettings): FetchLike {
  return (input, init) =>
    new Promise((resolve, reject) => {
      const url = new URL(input);
      const secure = url.protocol === "https:";
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      // As fetch does: compressed answers are welcome (a server's httpCompression), and decoded.
      headers["accept-encoding"] ??= "gzip, deflate";
      const body = typeof init.body === "string" ? new TextEncoder().encode(init.body) : undefined;
      if (body) headers["content-length"] = String(body.byteLength);
      const signal = init.signal;
      if (signal?.aborted) return reject(signal.reason);
      const req = (secure ? modules.https : modules.http).request(url, {
        method: init.method ?? "GET",
        headers,
        ...requestOptions(settings, secure),
      });
      const onAbort = () => {
        reject(signal!.reason);
        req.destroy();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const fail = (err: unknown) => {
        signal?.removeEventListener("abort", onAbort);
        reject(err);
      };
      if (settings.unref) req.on("socket", (socket: NodeSocket) => socket.unref());
      req.on("error", fail);
      req.on("response", (res: NodeResponse) => {
        const chunks: Uint8Array[] = [];
        res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
        res.on("error", fail);
        res.on("end", () => {
          signal?.removeEventListener("abort", onAbort);
          const answer = new Headers();
          for (const name in res.headers) {
            const value = res.headers[name];
            if (Array.isArray(value)) { for (const item of value) answer.append(name, item); }
            else if (value !== undefined) answer.set(name, value);
          }
          const status = res.statusCode ?? 200;
          const coding = answer.get("content-encoding")?.trim().toLowerCase();
          const body = concatBytes(chunks);
          if (coding !== "gzip" && coding !== "deflate") {
            resolve(new Response(body as Uint8Array<ArrayBuffer>, { status, headers: answer }));
            return;
          }
          decompressBody(body, coding).then(
            (bytes) => resolve(new Response(bytes as Uint8Array<ArrayBuffer>, { status, headers: answer })),
            reject,
          );
        });
      });
      req.end(body);
    });
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** The largest message taken (the `ws` package's default): a larger one fails the connection. */
const MAX_MESSAGE = 100 * 2 ** 20;
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** One frame from the client: FIN, the opcode, a random mask, the masked payload. */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.byteLength;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = new Uint8Array(head + 4 + length);
  out[0] = 0x80 | opcode;
  if (length < 126) out[1] = 0x80 | length;
  else if (length < 65536) {
    out[1] = 0x80 | 126;
    out[2] = length >> 8;
    out[3] = length & 0xff;
  } else {
    out[1] = 0x80 | 127;
    const view = new DataView(out.buffer);
    view.setUint32(2, Math.floor(length / 2 ** 32));
    view.setUint32(6, length >>> 0);
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, head);
  for (let i = 0; i < length; i++) out[head + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

/** The options a `WebSocket` constructor gets: sub-protocols, or `{ headers, protocols }`. */
type WebSocketInit =
  | string
  | string[]
  | { headers?: Record<string, string>; protocols?: string | string[] }
  | undefined;

/**
 * A `WebSocket` constructor over `node:http(s)` (the handshake is an HTTP upgrade), for the
 * WebSocket transport: `onopen`, `onmessage` (text, or binary as an `ArrayBuffer`), `onerror`,
 * `onclose`, `send` and `close`; with `unref`, its socket keeps no process alive.
 *
 * @example
 * ```ts
 * import { nodeWebSocket } from "./_node_transports.ts";
 * import type { NodeModules } from "./_node_transports.ts";
 * declare const modules: NodeModules;
 * const WebSocket = nodeWebSocket(modules, { tls: {}, unref: true });
 * const ws = new WebSocket("ws://localhost:3000/socket.io/?EIO=4&transport=websocket");
 * ws.onmessage = (event) => console.log(event.data);
 * ```
 */
export function nodeWebSocket(modules: NodeModules, settings: NodeSettings): WebSocketConstructor {
  const unref = settings.unref;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const encoder = new TextEncoder();

  class NodeWebSocket {
    binaryType = "arraybuffer";
    readyState: number = CONNECTING;
    protocol = "";
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: string | ArrayBuffer }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
    #req: NodeRequest;
    #socket: NodeSocket | undefined;
    #buffer: Uint8Array = new Uint8Array(0);
    #fragments: Uint8Array[] = [];
    #fragmentType = 0;
    #fragmentBytes = 0;
    #closeSent = false;
    #closeCode: number | undefined;
    #closeReason = "";
    #closeTimer: ReturnType<typeof setTimeout> | undefined;
    #broken = false;

    constructor(url: string, init?: WebSocketInit) {
      const options = typeof init === "object" && !Array.isArray(init) ? init : { protocols: init };
      const target = new URL(url);
      const secure = target.protocol === "wss:" || target.protocol === "https:";
      target.protocol = secure ? "https:" : "http:";
      const key = encodeBase64(crypto.getRandomValues(new Uint8Array(16)));
      const protocols = options.protocols === undefined ? [] : ([] as string[]).concat(options.protocols);
      const headers: Record<string, string> = {
        ...options.headers,
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": key,
      };
      if (protocols.length) headers["sec-websocket-protocol"] = protocols.join(", ");
      const req = this.#req = (secure ? modules.https : modules.http).request(target, {
        headers,
        ...requestOptions(settings, secure),
      });
      if (unref) req.on("socket", (socket: NodeSocket) => socket.unref());
      req.on("error", (err: Error) => this.#fail(err));
      req.on("response", (res: NodeResponse) => {
        res.resume?.();
        this.#fail(new Error(`Unexpected server response: ${res.statusCode}`));
      });
      req.on("upgrade", (res: NodeResponse, socket: NodeSocket, head: Uint8Array) => {
        this.#socket = socket;
        if (unref) socket.unref();
        socket.setNoDelay?.(true);
        socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
        socket.on("error", (err: Error) => this.#fail(err));
        socket.on("close", () => this.#onSocketClose());
        this.#onData(head);
        this.#accept(res, key, protocols).catch((err) => this.#fail(err));
      });
      req.end();
    }

    async #accept(res: NodeResponse, key: string, protocols: string[]): Promise<void> {
      const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + GUID));
      if (this.readyState !== CONNECTING) return;
      if (res.headers["sec-websocket-accept"] !== encodeBase64(new Uint8Array(digest))) {
        throw new Error("Invalid Sec-WebSocket-Accept header");
      }
      const protocol = res.headers["sec-websocket-protocol"];
      if (protocol !== undefined && !protocols.includes(String(protocol))) {
        throw new Error("Server sent a subprotocol that was not requested");
      }
      this.protocol = protocol === undefined ? "" : String(protocol);
      this.readyState = OPEN;
      this.onopen?.({ type: "open" });
      this.#parse();
    }

    #onData(chunk: Uint8Array): void {
      if (chunk.byteLength === 0) return;
      this.#buffer = this.#buffer.byteLength === 0 ? chunk : concatBytes([this.#buffer, chunk]);
      if (this.readyState === OPEN || this.readyState === CLOSING) this.#parse();
    }

    /** Reads every whole frame in the buffer. */
    #parse(): void {
      while ((this.readyState === OPEN || this.readyState === CLOSING) && !this.#broken) {
        const buf = this.#buffer;
        if (buf.byteLength < 2) return;
        const fin = (buf[0] & 0x80) !== 0;
        const opcode = buf[0] & 0x0f;
        const masked = (buf[1] & 0x80) !== 0;
        let length = buf[1] & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buf.byteLength < 4) return;
          length = (buf[2] << 8) | buf[3];
          offset = 4;
        } else if (length === 127) {
          if (buf.byteLength < 10) return;
          const view = new DataView(buf.buffer, buf.byteOffset, 10);
          length = view.getUint32(2) * 2 ** 32 + view.getUint32(6);
          offset = 10;
        }
        if (length + this.#fragmentBytes > MAX_MESSAGE) return this.#protocolError(1009);
        if ((buf[0] & 0x70) !== 0) return this.#protocolError(1002); // no extension was negotiated
        const maskAt = offset;
        if (masked) offset += 4;
        if (buf.byteLength < offset + length) return;
        const payload = new Uint8Array(length);
        payload.set(buf.subarray(offset, offset + length));
        if (masked) { for (let i = 0; i < length; i++) payload[i] ^= buf[maskAt + (i & 3)]; }
        this.#buffer = buf.subarray(offset + length);
        if (opcode >= 8) {
          if (!fin || length > 125) return this.#protocolError(1002);
          this.#onControl(opcode, payload);
        } else if (opcode === 0) {
          if (this.#fragmentType === 0) return this.#protocolError(1002);
          this.#fragments.push(payload);
          this.#fragmentBytes += length;
          if (fin) {
            const type = this.#fragmentType;
            this.#fragmentType = 0;
            this.#fragmentBytes = 0;
            this.#deliver(type, concatBytes(this.#fragments.splice(0)));
          }
        } else if (opcode === 1 || opcode === 2) {
          if (this.#fragmentType !== 0) return this.#protocolError(1002);
          if (fin) this.#deliver(opcode, payload);
          else {
            this.#fragmentType = opcode;
            this.#fragments = [payload];
            this.#fragmentBytes = length;
          }
        } else return this.#protocolError(1002);
      }
    }

    #deliver(opcode: number, payload: Uint8Array): void {
      if (this.readyState !== OPEN) return;
      let data: string | ArrayBuffer;
      if (opcode === 1) {
        try {
          data = decoder.decode(payload);
        } catch {
          return this.#protocolError(1007);
        }
      } else data = payload.buffer as ArrayBuffer;
      this.onmessage?.({ data });
    }

    #onControl(opcode: number, payload: Uint8Array): void {
      if (opcode === 9) {
        if (!this.#closeSent) this.#socket!.write(frame(10, payload));
      } else if (opcode === 8) {
        this.#closeCode = payload.byteLength >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        this.#closeReason = payload.byteLength > 2 ? new TextDecoder().decode(payload.subarray(2)) : "";
        if (!this.#closeSent) this.#sendClose(payload.byteLength >= 2 ? this.#closeCode : undefined, "");
        this.readyState = CLOSING;
        this.#socket!.end();
      }
    }

    #sendClose(code: number | undefined, reason: string): void {
      this.#closeSent = true;
      const text = encoder.encode(reason);
      const payload = new Uint8Array(code === undefined ? 0 : 2 + text.byteLength);
      if (code !== undefined) {
        payload[0] = code >> 8;
        payload[1] = code & 0xff;
        payload.set(text, 2);
      }
      this.#socket!.write(frame(8, payload));
      // A server that does not answer the close is not waited for long.
      const socket = this.#socket!;
      this.#closeTimer = setTimeout(() => socket.destroy(), 1000);
      if (unref) modules.unrefTimer(this.#closeTimer);
    }

    /** Fails the connection: the server is told why, nothing more is read. */
    #protocolError(code: number): void {
      this.#broken = true;
      this.#closeCode = 1006;
      this.readyState = CLOSING;
      if (!this.#closeSent) this.#sendClose(code, "");
      this.#socket!.end();
    }

    #fail(err: unknown): void {
      if (this.readyState === CLOSED) return;
      this.readyState = CLOSED;
      clearTimeout(this.#closeTimer);
      this.#req.destroy();
      this.#socket?.destroy();
      this.onerror?.({ type: "error", error: err, message: err instanceof Error ? err.message : String(err) });
      this.onclose?.({ code: 1006, reason: "", wasClean: false });
    }

    #onSocketClose(): void {
      if (this.readyState === CLOSED) return;
      this.readyState = CLOSED;
      clearTimeout(this.#closeTimer);
      const code = this.#closeCode ?? 1006;
      this.onclose?.({ code, reason: this.#closeReason, wasClean: code !== 1006 });
    }

    send(data: string | ArrayBuffer | ArrayBufferView): void {
      if (this.readyState === CONNECTING) throw new Error("The WebSocket is not open yet");
      if (this.readyState !== OPEN) return;
      if (typeof data === "string") return void this.#socket!.write(frame(1, encoder.encode(data)));
      const bytes = data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      this.#socket!.write(frame(2, bytes));
    }

    close(code?: number, reason = ""): void {
      if (this.readyState === CONNECTING) return this.#fail(new Error("Closed before the connection was established"));
      if (this.readyState !== OPEN) return;
      this.readyState = CLOSING;
      this.#sendClose(code ?? 1000, reason);
    }
  }
  return NodeWebSocket as unknown as WebSocketConstructor;
}
