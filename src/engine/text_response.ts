/**
 * The engine's text answers (polling payloads, `ok`, errors). A runtime shim that writes every
 * answer itself (Node) says so on the requests it passes in ({@linkcode TEXT_ANSWERS}); the
 * engine's answers to those are {@linkcode TextAnswer}s, whose text the shim writes as it is
 * ({@linkcode responseText}), and which make a web `Response` (and its body stream) only if
 * something reads them as one. Every other request gets a plain `Response`.
 *
 * @module
 */

/**
 * Key of a `Request` member that is `true` when the runtime shim writes the answer itself and
 * reads text answers through {@linkcode responseText}.
 */
export const TEXT_ANSWERS: unique symbol = Symbol("sio.request.textAnswers");

/**
 * The answer to `request` with `body` as its text: a {@linkcode TextAnswer} when the request's
 * shim takes them, a `Response` otherwise.
 *
 * @example
 * ```ts
 * import { textResponse } from "./text_response.ts";
 * const response = textResponse(new Request("http://x/"), "ok", { status: 200, headers: new Headers() });
 * await response.text(); // "ok"
 * ```
 */
export function textResponse(request: Request, body: string, init: ResponseInit & { headers: Headers }): Response {
  if ((request as { [TEXT_ANSWERS]?: boolean })[TEXT_ANSWERS] === true) {
    return new TextAnswer(body, init.status ?? 200, init.headers).asResponse();
  }
  return new Response(body, init);
}

/**
 * The text of a {@linkcode TextAnswer}; `undefined` for any other response (read its body).
 *
 * @example
 * ```ts
 * import { responseText } from "./text_response.ts";
 * responseText(new Response("x")); // undefined
 * ```
 */
export function responseText(response: Response): string | undefined {
  return response instanceof TextAnswer ? response.bodyText : undefined;
}

/**
 * A text answer that is a `Response` to whoever reads it as one: `status` and `headers` are its
 * own, every other member comes from a real `Response` made on first use.
 *
 * @example
 * ```ts
 * import { TextAnswer } from "./text_response.ts";
 * const answer = new TextAnswer("ok", 200, new Headers()).asResponse();
 * answer instanceof Response; // true
 * ```
 */
export class TextAnswer {
  /** The body. */
  readonly bodyText: string;
  readonly #status: number;
  readonly #headers: Headers;
  #real: Response | undefined;

  /** An answer of `status` with `headers` and `bodyText`. */
  constructor(bodyText: string, status: number, headers: Headers) {
    this.bodyText = bodyText;
    this.#status = status;
    this.#headers = headers;
  }

  /** This answer as the `Response` type. */
  asResponse(): Response {
    return this as unknown as Response;
  }

  /** The status code. */
  get status(): number {
    return this.#status;
  }
  /** The headers (the engine's own object, as a real `Response` would have a copy). */
  get headers(): Headers {
    return this.#headers;
  }
  /** Whether the status is 2xx. */
  get ok(): boolean {
    return this.#status >= 200 && this.#status < 300;
  }

  #response(): Response {
    return this.#real ??= new Response(this.bodyText, { status: this.#status, headers: this.#headers });
  }

  /** See `Response.body`. */
  get body(): ReadableStream<Uint8Array> | null {
    return this.#response().body;
  }
  /** See `Response.bodyUsed`. */
  get bodyUsed(): boolean {
    return this.#real !== undefined && this.#real.bodyUsed;
  }
  /** See `Response.redirected`. */
  get redirected(): boolean {
    return false;
  }
  /** See `Response.statusText`. */
  get statusText(): string {
    return this.#response().statusText;
  }
  /** See `Response.type`. */
  get type(): ResponseType {
    return this.#response().type;
  }
  /** See `Response.url`. */
  get url(): string {
    return this.#response().url;
  }
  /** See `Response.clone()`. */
  clone(): Response {
    return this.#response().clone();
  }
  /** See `Response.arrayBuffer()`. */
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#response().arrayBuffer();
  }
  /** See `Response.blob()`. */
  blob(): Promise<Blob> {
    return this.#response().blob();
  }
  /** See `Response.bytes()`. */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return (this.#response() as unknown as { bytes(): Promise<Uint8Array<ArrayBuffer>> }).bytes();
  }
  /** See `Response.formData()`. */
  formData(): Promise<FormData> {
    return this.#response().formData();
  }
  /** See `Response.json()`. */
  json(): Promise<unknown> {
    return this.#response().json();
  }
  /** See `Response.text()`. */
  text(): Promise<string> {
    return this.#response().text();
  }
}

// `instanceof Response` holds, and the prototype's other members are Response's.
Object.setPrototypeOf(TextAnswer.prototype, Response.prototype);
