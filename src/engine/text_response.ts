/**
 * Responses with a text body the engine built, remembered with their text: a runtime shim that
 * writes bytes to its own response object (Node) takes the string as it is instead of reading the
 * body back through a stream. Any other `Response` (a user's, a wrapped one) is read as usual.
 *
 * @module
 */

const texts = new WeakMap<Response, string>();

/**
 * A `Response` with `body` as its text, remembered for {@linkcode responseText}.
 *
 * @example
 * ```ts
 * import { responseText, textResponse } from "./text_response.ts";
 * const response = textResponse("ok", { status: 200 });
 * responseText(response); // "ok"
 * ```
 */
export function textResponse(body: string, init: ResponseInit): Response {
  const response = new Response(body, init);
  texts.set(response, body);
  return response;
}

/**
 * The text of a response made by {@linkcode textResponse}; `undefined` for any other response.
 *
 * @example
 * ```ts
 * import { responseText } from "./text_response.ts";
 * responseText(new Response("x")); // undefined
 * ```
 */
export function responseText(response: Response): string | undefined {
  return texts.get(response);
}
