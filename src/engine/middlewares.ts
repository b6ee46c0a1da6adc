/**
 * Engine middlewares (`engine.use(fn)`, socket.io's `io.engine.use`): connect-style functions
 * `(req, res, next)` that run before the engine handles a request (every polling request and every
 * WebSocket handshake), as engine.io runs them, so Express middlewares (express-session, passport,
 * helmet) work unchanged on Node's HTTP server. There `req` is Node's `IncomingMessage` and `res`
 * its `ServerResponse` (for a WebSocket handshake, a {@linkcode MiddlewareResponse} whose headers go
 * on the 101 answer, as engine.io does). On web runtimes `req` is the web `Request` and `res` a
 * {@linkcode MiddlewareResponse}: its headers (`res.headers`, or Node's `setHeader` /
 * `removeHeader`, which helmet uses) go on the answer, and `res.end()` answers the request itself.
 * In both, `req._query` holds the query parameters (engine.io's field: `req._query.sid` is unset on
 * a handshake).
 *
 * @module
 */

import { Emitter } from "../util/emitter.ts";
import type { EngineResponse } from "./exchange.ts";

/**
 * An engine middleware: calls `next()` to go on, `next(err)` to refuse the request (400, `Bad
 * request`), or answers it itself through `res` (`res.writeHead(401); res.end()`).
 *
 * @example
 * ```ts
 * import type { EngineMiddleware } from "./middlewares.ts";
 * const onlyForHandshake = (middleware: EngineMiddleware): EngineMiddleware => (req, res, next) => {
 *   if (req._query.sid === undefined) middleware(req, res, next);
 *   else next();
 * };
 * ```
 */
// deno-lint-ignore no-explicit-any
export type EngineMiddleware = (req: any, res: any, next: (err?: unknown) => void) => unknown;

/**
 * Events of a {@linkcode MiddlewareResponse} (as Node's `ServerResponse` has them).
 *
 * @example
 * ```ts
 * import { MiddlewareResponse } from "./middlewares.ts";
 * new MiddlewareResponse(new Headers()).once("finish", () => console.log("answered"));
 * ```
 */
export interface MiddlewareResponseEvents {
  /** The answer was ended. */
  finish: () => void;
  /** The exchange is over. */
  close: () => void;
}

/**
 * The `res` of engine middlewares where the runtime has no response object of its own yet (web
 * runtimes; WebSocket handshakes on Node): the part of Node's `ServerResponse` that middlewares
 * use, over web `Headers`.
 *
 * @example
 * ```ts
 * import { MiddlewareResponse } from "./middlewares.ts";
 * const res = new MiddlewareResponse(new Headers());
 * res.setHeader("X-Frame-Options", "SAMEORIGIN");
 * res.headers.get("x-frame-options"); // "SAMEORIGIN"
 * ```
 */
export class MiddlewareResponse extends Emitter<MiddlewareResponseEvents> {
  /** The headers of the answer (those of the engine's answer, or of the 101 of a WebSocket). */
  readonly headers: Headers;
  /** The status of an answer given with `end()` (200 unless set). */
  statusCode = 200;
  /** Whether `end()` answered the request. */
  writableEnded = false;
  #body: string[] = [];

  /** A response whose headers are `headers`. */
  constructor(headers: Headers) {
    super();
    this.headers = headers;
  }

  /** Whether the answer was written (only once `end()` was called). */
  get headersSent(): boolean {
    return this.writableEnded;
  }

  /** Sets a header (a list sets one line each). */
  setHeader(name: string, value: string | number | readonly string[]): this {
    if (Array.isArray(value)) {
      this.headers.delete(name);
      for (const v of value) this.headers.append(name, String(v));
    } else this.headers.set(name, String(value));
    return this;
  }

  /** A header's value (`set-cookie` as a list), `undefined` when absent. */
  getHeader(name: string): string | string[] | undefined {
    if (name.toLowerCase() === "set-cookie") {
      const cookies = this.headers.getSetCookie();
      return cookies.length > 0 ? cookies : undefined;
    }
    return this.headers.get(name) ?? undefined;
  }

  /** Every header as a plain object. */
  getHeaders(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    this.headers.forEach((value, name) => {
      if (name !== "set-cookie") out[name] = value;
    });
    const cookies = this.headers.getSetCookie();
    if (cookies.length > 0) out["set-cookie"] = cookies;
    return out;
  }

  /** Whether a header is set. */
  hasHeader(name: string): boolean {
    return this.headers.has(name);
  }

  /** Removes a header. */
  removeHeader(name: string): void {
    this.headers.delete(name);
  }

  /**
   * Sets the status and headers of an answer `end()` gives. Called without arguments (as engine.io
   * does before a WebSocket handshake, so that middlewares that hook it can add their headers), it
   * only tells them.
   */
  writeHead(status?: number, headers?: Record<string, string | number | readonly string[]>): this {
    if (status !== undefined) this.statusCode = status;
    if (headers) { for (const [name, value] of Object.entries(headers)) this.setHeader(name, value); }
    return this;
  }

  /** Adds to the body of the answer `end()` gives. */
  write(chunk: string | Uint8Array): boolean {
    this.#body.push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk));
    return true;
  }

  /** Answers the request: with `statusCode`, the headers, and what was written. */
  end(chunk?: string | Uint8Array): this {
    if (this.writableEnded) return this;
    if (chunk !== undefined) this.write(chunk);
    this.writableEnded = true;
    this.emitReserved("finish");
    this.emitReserved("close");
    return this;
  }

  /** Node's `emit`, for middlewares that signal on the response. */
  emit(event: string, ...args: unknown[]): boolean {
    return this.emitReserved(event as keyof MiddlewareResponseEvents, ...(args as []));
  }

  /** The answer `end()` gave, for the engine to send. */
  toEngineResponse(): EngineResponse {
    return { status: this.statusCode, headers: this.headers, body: this.#body.join("") };
  }
}

/** Node's response as far as telling whether a middleware answered goes. */
interface AnswerableResponse {
  readonly headersSent?: boolean;
  readonly writableEnded?: boolean;
  once?(event: string, listener: () => void): unknown;
  off?(event: string, listener: () => void): unknown;
}

/** Whether a middleware answered the request through `res`. */
export function answered(res: object): boolean {
  const r = res as AnswerableResponse;
  return r.writableEnded === true || r.headersSent === true;
}

/**
 * Runs `middlewares` in order on `(req, res)`: resolves with `undefined` when they all called
 * `next()`, with the error one passed to `next` (or threw), or with `"answered"` once one ended
 * the response without calling `next` (no middleware after it runs).
 *
 * @example
 * ```ts
 * import { MiddlewareResponse, runMiddlewares } from "./middlewares.ts";
 * const res = new MiddlewareResponse(new Headers());
 * const outcome = await runMiddlewares([(_req, res, next) => { res.setHeader("x-a", "1"); next(); }], {}, res);
 * outcome; // undefined
 * ```
 */
export async function runMiddlewares(
  middlewares: readonly EngineMiddleware[],
  req: object,
  res: object,
): Promise<unknown> {
  for (const middleware of middlewares) {
    const outcome = await runOne(middleware, req, res);
    if (outcome !== undefined) return outcome;
  }
  return undefined;
}

function runOne(middleware: EngineMiddleware, req: object, res: object): Promise<unknown> {
  return new Promise((resolve) => {
    const r = res as AnswerableResponse;
    let settled = false;
    const settle = (outcome: unknown) => {
      if (settled) return;
      settled = true;
      r.off?.("finish", onEnd);
      r.off?.("close", onEnd);
      resolve(outcome);
    };
    // A middleware that answers and never calls next: the request is over.
    const onEnd = () => settle("answered");
    r.once?.("finish", onEnd);
    r.once?.("close", onEnd);
    const next = (err?: unknown) => settle(err ? (err instanceof Error ? err : new Error(String(err))) : undefined);
    try {
      const result = middleware(req, res, next);
      if (
        result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function"
      ) {
        (result as PromiseLike<unknown>).then(undefined, (err) => next(err ?? new Error("middleware failed")));
      }
    } catch (err) {
      next(err ?? new Error("middleware failed"));
    }
  });
}
