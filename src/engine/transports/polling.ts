/**
 * The HTTP long-polling transport: the client holds a GET open to receive a payload and POSTs
 * payloads to send. At most one GET and one POST may be in flight at a time.
 *
 * @module
 */

import { decodePayload, encodePayload, type EnginePacket } from "../../parser/engine_io.ts";
import { EngineErrorCode, errorResponse } from "../errors.ts";
import { type EngineRequest, type EngineResponse, textResponse } from "../exchange.ts";
import { preferredEncoding } from "../accept_encoding.ts";
import { compressBody, type StreamEncoding } from "../../util/compression.ts";
import { NO_EVENTS, type Transport, type TransportEvents } from "./transport.ts";
import { createDebug } from "../../util/debug.ts";
import { readV3Post, type V3Framing, v3PollAnswer } from "../protocol_v3.ts";
import { utf8Length } from "../../util/utf8_length.ts";

const debug = createDebug("sio:engine:polling");

interface PendingPoll {
  resolve: (response: EngineResponse) => void;
  /** The GET (its `Accept-Encoding` is read only for an answer large enough to compress). */
  request: EngineRequest;
  headers: Headers;
  /** Stops watching for the client going away. */
  unwatch: () => void;
}

/**
 * A session's long-polling transport.
 *
 * @example
 * ```ts
 * import { PollingTransport } from "./polling.ts";
 * import { fromWebRequest } from "../web_exchange.ts";
 * const polling = new PollingTransport(1e6, 45000);
 * const answer = polling.handleGet(fromWebRequest(new Request("http://x/")), new Headers());
 * polling.send([{ type: "message", data: "hi" }]);
 * (await answer).body; // "4hi"
 * ```
 */
export class PollingTransport implements Transport {
  /** The transport's name (on the prototype: one field less per session). */
  get name(): "polling" {
    return "polling";
  }
  events: TransportEvents = NO_EVENTS;
  #pending: PendingPoll | null = null;
  #posting = false;
  #discarded = false;
  #closed = false;
  #shouldClose: (() => void) | null = null;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #maxPayload: number;
  #closeTimeout: number;
  /** Engine.IO v3: how the peer takes binary (`undefined`: v4). */
  readonly #v3: V3Framing | undefined;
  /** The smallest answer compressed (`httpCompression`); `undefined`: never. */
  readonly #compressFrom: number | undefined;

  /**
   * `maxPayload` caps POST bodies; `closeTimeout` caps how long a server close waits for a GET;
   * `v3` makes it an Engine.IO v3 transport; answers of `compressFrom` bytes or more are compressed
   * as the GET's `Accept-Encoding` asks (gzip or deflate; never when `undefined`).
   */
  constructor(maxPayload: number, closeTimeout: number, v3?: V3Framing, compressFrom?: number) {
    this.#maxPayload = maxPayload;
    this.#closeTimeout = closeTimeout;
    this.#v3 = v3;
    this.#compressFrom = compressFrom;
  }

  get writable(): boolean {
    return this.#pending !== null && !this.#discarded;
  }

  /** Always 0: a poll answer is handed over whole. */
  get bufferedAmount(): number {
    return 0;
  }

  /** Whether a GET is waiting. */
  get polling(): boolean {
    return this.#pending !== null;
  }

  /** Answers a GET: now if packets are waiting, otherwise when some are sent. */
  handleGet(request: EngineRequest, headers: Headers): Promise<EngineResponse> {
    if (this.#pending !== null) {
      this.events.onError("transport error", "overlap from client");
      return Promise.resolve(errorResponse(EngineErrorCode.BAD_REQUEST, headers));
    }
    headers.set("Content-Type", "text/plain; charset=UTF-8");
    headers.set("Cache-Control", "no-store");
    return new Promise<EngineResponse>((resolve) => {
      const pending: PendingPoll = { resolve, request, headers, unwatch: noop };
      this.#pending = pending;
      pending.unwatch = request.onAbort(() => {
        if (this.#pending !== pending) return;
        this.#pending = null;
        // Settle the handler too (nobody reads this answer): a request left pending forever holds
        // its memory and keeps a graceful server shutdown (which waits for open requests) waiting.
        resolve(errorResponse(EngineErrorCode.BAD_REQUEST, headers));
        this.events.onError("transport error", "poll connection closed prematurely");
      });
      if (this.#shouldClose !== null) {
        this.send([{ type: "noop" }]);
        return;
      }
      this.events.onDrain();
    });
  }

  /** JSONP (Engine.IO v3): the POST being read, which the next one waits for. */
  #jsonpPost: Promise<unknown> | undefined;

  /** Reads a POSTed payload and hands its packets to the session. */
  handlePost(request: EngineRequest, headers: Headers): Promise<EngineResponse> {
    if (this.#v3?.jsonp === undefined) return this.#handlePost(request, headers);
    // JSONP: socket.io-client 2 submits its next form when the previous one's frame loads, which
    // can be before the answer: one at a time, in the order they came, instead of "overlap".
    const previous = this.#jsonpPost;
    const post = (previous ?? Promise.resolve()).then(() => this.#handlePost(request, headers));
    const settled = this.#jsonpPost = post.catch(() => {});
    settled.then(() => {
      if (this.#jsonpPost === settled) this.#jsonpPost = undefined;
    });
    return post;
  }

  async #handlePost(request: EngineRequest, headers: Headers): Promise<EngineResponse> {
    if (this.#posting) {
      this.events.onError("transport error", "data request overlap from client");
      return errorResponse(EngineErrorCode.BAD_REQUEST, headers);
    }
    // Binary payloads are Engine.IO v3's (XHR2 clients).
    const binary = request.header("content-type") === "application/octet-stream";
    if (binary && this.#v3 === undefined) {
      this.events.onError("transport error", "invalid content");
      return errorResponse(EngineErrorCode.BAD_REQUEST, headers);
    }
    const declared = Number(request.header("content-length") ?? 0);
    if (declared > this.#maxPayload) return payloadTooLarge(headers);
    this.#posting = true;
    let packets: EnginePacket[] | null;
    try {
      if (this.#v3 !== undefined) {
        const read = await readV3Post(request, binary, this.#maxPayload, this.#v3);
        this.#posting = false;
        if (read === "too large") return payloadTooLarge(headers);
        packets = read;
      } else {
        const text = await request.readText(this.#maxPayload);
        this.#posting = false;
        if (text === null) return payloadTooLarge(headers);
        packets = decodePayload(text);
      }
    } catch {
      this.#posting = false;
      this.events.onError("transport error", "data request connection closed prematurely");
      return errorResponse(EngineErrorCode.BAD_REQUEST, headers);
    }
    if (packets === null) {
      this.events.onError("parse error", "invalid payload");
      return errorResponse(EngineErrorCode.BAD_REQUEST, headers);
    }
    for (let i = 0; i < packets.length && !this.#closed; i++) {
      const packet = packets[i];
      if (packet.type === "close") {
        this.#peerClosed();
        break;
      }
      this.events.onPacket(packet);
    }
    headers.set("Content-Type", "text/html");
    return textResponse(200, "ok", headers);
  }

  #peerClosed(): void {
    if (this.#closed) return;
    if (this.#pending !== null) this.send([{ type: "noop" }]);
    this.#closed = true;
    this.events.onClose();
  }

  send(packets: EnginePacket[]): void {
    const pending = this.#pending;
    if (pending === null) return;
    this.#pending = null;
    pending.unwatch();
    const done = this.#shouldClose;
    if (done !== null) {
      packets = [...packets, { type: "close" }];
      this.#shouldClose = null;
      clearTimeout(this.#closeTimer);
    }
    const answer = this.#v3 !== undefined
      ? v3PollAnswer(packets, this.#v3, pending.headers)
      : textResponse(200, encodePayload(packets), pending.headers);
    const encoding = this.#encodingFor(answer, pending.request, packets);
    if (encoding === undefined) pending.resolve(answer);
    else compressAnswer(answer, encoding).then(pending.resolve);
    if (done !== null) done();
  }

  /**
   * How to compress `answer`, if at all: it is large enough, some packet in it may be compressed
   * (not every message was sent with `compress: false`), and the GET accepts gzip or deflate.
   */
  #encodingFor(answer: EngineResponse, request: EngineRequest, packets: EnginePacket[]): StreamEncoding | undefined {
    const threshold = this.#compressFrom;
    if (threshold === undefined) return undefined;
    const body = answer.body;
    if (typeof body === "string") {
      // A UTF-8 size is at least the string's length and at most three times it.
      if (body.length * 3 < threshold || (body.length < threshold && utf8Length(body) < threshold)) return undefined;
    } else if (!(body instanceof Uint8Array) || body.byteLength < threshold) return undefined;
    // As engine.io: only an answer holding a packet that may be compressed (the close and noop the
    // transport adds do not count).
    if (!packets.some(mayCompress)) return undefined;
    let accept: string | null;
    try {
      accept = request.header("accept-encoding");
    } catch {
      return undefined; // a runtime that released the request's headers
    }
    return preferredEncoding(accept, ENCODINGS) as StreamEncoding | undefined;
  }

  close(done?: () => void): void {
    if (this.#closed) {
      done?.();
      return;
    }
    this.#closed = true;
    const finish = done ?? (() => {});
    if (this.#pending !== null && !this.#discarded) {
      this.#shouldClose = finish;
      this.send([]);
      return;
    }
    if (this.#discarded) {
      finish();
      return;
    }
    this.#shouldClose = finish;
    this.#closeTimer = setTimeout(() => {
      this.#shouldClose = null;
      finish();
    }, this.#closeTimeout);
  }

  discard(): void {
    if (this.#pending !== null) this.send([{ type: "noop" }]);
    this.#discarded = true;
    // A close that was waiting for the client's next GET is over: the session is gone.
    clearTimeout(this.#closeTimer);
    this.#shouldClose = null;
  }
}

/**
 * The answer to a POST over maxHttpBufferSize. The connection stays open (as engine.io's): the
 * runtime drops the rest of the body as it comes, so a client still sending it is not cut off
 * mid-write (closing made its write fail with EPIPE instead of reading the 413) and can send its
 * next request on the same connection.
 */
function payloadTooLarge(headers: Headers): EngineResponse {
  debug("POST body over maxHttpBufferSize: 413");
  headers.set("Content-Type", "text/plain; charset=UTF-8");
  return textResponse(413, "Payload Too Large", headers);
}

function noop(): void {}

/** The codings of long-polling answers, in engine.io's order of preference. */
const ENCODINGS: readonly StreamEncoding[] = ["gzip", "deflate"];

function mayCompress(packet: EnginePacket): boolean {
  return packet.type !== "noop" && packet.type !== "close" && packet.options?.compress !== false;
}

/** `answer` with its body compressed (as it was, if compression fails). */
async function compressAnswer(answer: EngineResponse, encoding: StreamEncoding): Promise<EngineResponse> {
  try {
    const body = await compressBody(answer.body as string | Uint8Array, encoding);
    answer.headers.set("Content-Encoding", encoding);
    return { status: answer.status, headers: answer.headers, body };
  } catch (err) {
    debug("compression failed, answering uncompressed: %s", String(err));
    return answer;
  }
}
