/**
 * A cluster adapter over the web-standard `BroadcastChannel`: servers in several workers or
 * isolates of one host (Deno and Bun workers, Node `worker_threads`, browser-like runtimes) form a
 * cluster without any broker. Members find each other with heartbeats; `serverCount()` counts
 * those heard from within `heartbeatTimeout`.
 *
 * @module
 */

import type { AnyNamespace } from "../io/adapter.ts";
import { unrefTimer } from "../util/platform.ts";
import {
  ClusterAdapter,
  type ClusterAdapterOptions,
  type ClusterBroadcast,
  type ClusterRequest,
  type ClusterResponse,
} from "./cluster.ts";

/**
 * Options of the BroadcastChannel adapter.
 *
 * @example
 * ```ts
 * import type { BroadcastChannelAdapterOptions } from "./broadcast_channel.ts";
 * const opts: BroadcastChannelAdapterOptions = { channel: "my-app", heartbeatInterval: 1000 };
 * ```
 */
export interface BroadcastChannelAdapterOptions extends ClusterAdapterOptions {
  /** The channel name prefix (default `socket.io`); the namespace name is appended. */
  channel?: string;
  /** Milliseconds between heartbeats (default 5000). */
  heartbeatInterval?: number;
  /** Milliseconds of silence after which a server is counted out (default 10000). */
  heartbeatTimeout?: number;
}

type Message =
  | { kind: "hello" | "heartbeat" | "bye"; uid: string }
  | { kind: "broadcast"; uid: string; message: ClusterBroadcast }
  | { kind: "request"; uid: string; request: ClusterRequest }
  | { kind: "response"; uid: string; to?: string; response: ClusterResponse };

const KINDS = new Set(["hello", "heartbeat", "bye", "broadcast", "request", "response"]);

function isMessage(value: unknown): value is Message {
  if (value === null || typeof value !== "object") return false;
  const { kind, uid } = value as { kind?: unknown; uid?: unknown };
  return typeof uid === "string" && typeof kind === "string" && KINDS.has(kind);
}

/**
 * The adapter of one namespace; build it with {@linkcode createBroadcastChannelAdapter}.
 *
 * @example
 * ```ts
 * import { Server } from "../../server.ts";
 * import { createBroadcastChannelAdapter } from "./broadcast_channel.ts";
 * const io = new Server({ adapter: createBroadcastChannelAdapter({ channel: "chat" }) });
 * ```
 */
export class BroadcastChannelAdapter extends ClusterAdapter {
  readonly #channel: BroadcastChannel;
  readonly #nodes: Map<string, number> = new Map();
  readonly #interval: number;
  readonly #timeout: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** Creates the adapter of `nsp`. */
  constructor(nsp: AnyNamespace, options: BroadcastChannelAdapterOptions = {}) {
    super(nsp, options);
    this.#interval = options.heartbeatInterval ?? 5000;
    this.#timeout = options.heartbeatTimeout ?? 10000;
    this.#channel = new BroadcastChannel(`${options.channel ?? "socket.io"}#${nsp.name}`);
    this.#channel.onmessage = (event: MessageEvent) => this.#onMessage(event.data as Message);
  }

  /** Announces this server and starts the heartbeat. */
  override init(): void {
    this.#post({ kind: "hello", uid: this.uid });
    this.#timer = setInterval(() => this.#post({ kind: "heartbeat", uid: this.uid }), this.#interval);
    unrefTimer(this.#timer);
  }

  #post(message: Message): void {
    try {
      this.#channel.postMessage(message);
    } catch (err) {
      this.onPublishError(err, message.kind);
    }
  }

  #onMessage(message: Message): void {
    // Anything may be posted on the channel (another library, another version): only messages
    // of ours, and none of them may throw out of the handler.
    if (!isMessage(message) || message.uid === this.uid) return;
    try {
      this.#onOwnMessage(message);
    } catch (err) {
      this.onPublishError(err, `${message.kind} message`);
    }
  }

  #onOwnMessage(message: Message): void {
    if (message.kind === "bye") {
      this.#nodes.delete(message.uid);
      return;
    }
    if (!this.#nodes.has(message.uid) || message.kind === "hello") {
      this.#nodes.set(message.uid, Date.now());
      if (message.kind === "hello") this.#post({ kind: "heartbeat", uid: this.uid });
    } else this.#nodes.set(message.uid, Date.now());
    switch (message.kind) {
      case "broadcast":
        if (message.message && typeof message.message === "object") this.onBroadcast(message.message);
        return;
      case "request":
        this.onRequest(message.request).catch((err) => this.onPublishError(err, "request"));
        return;
      case "response":
        if (message.to === undefined || message.to === this.uid) this.onResponse(message.response);
        return;
    }
  }

  /** Posts a broadcast to the other servers. */
  protected publishBroadcast(message: ClusterBroadcast): void {
    this.#post({ kind: "broadcast", uid: this.uid, message });
  }

  /** Posts a request to the other servers. */
  protected publishRequest(request: ClusterRequest): void {
    this.#post({ kind: "request", uid: this.uid, request });
  }

  /** Posts a response to the server that asked. */
  protected publishResponse(request: ClusterRequest, response: ClusterResponse): void {
    this.#post({ kind: "response", uid: this.uid, to: request.uid, response });
  }

  /** This server plus those heard from within `heartbeatTimeout`. */
  override serverCount(): Promise<number> {
    const threshold = Date.now() - this.#timeout;
    let count = 1;
    for (const [uid, seen] of this.#nodes) {
      if (seen >= threshold) count++;
      else this.#nodes.delete(uid);
    }
    return Promise.resolve(count);
  }

  /** Says goodbye and closes the channel. */
  override close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#post({ kind: "bye", uid: this.uid });
    super.close();
    this.#channel.close();
  }
}

/**
 * Returns the adapter factory for `new Server({ adapter })`.
 *
 * @example
 * ```ts
 * import { Server } from "../../server.ts"; // "@sio/socket.io/server"
 * import { createBroadcastChannelAdapter } from "./broadcast_channel.ts"; // "@sio/socket.io/broadcast-channel"
 * const io = new Server({ adapter: createBroadcastChannelAdapter({ channel: "chat" }) });
 * ```
 */
export function createBroadcastChannelAdapter(
  options: BroadcastChannelAdapterOptions = {},
): (nsp: AnyNamespace) => BroadcastChannelAdapter {
  return (nsp) => new BroadcastChannelAdapter(nsp, options);
}
