/**
 * Misbehaving servers for the client: a scripted `fetch` (injected with the `fetch` option) and a
 * scripted `WebSocket` class (the `WebSocket` option), so malformed input, hangs and hang-ups can be
 * played without a network.
 *
 * @module
 */

/** A request as the fake server sees it. */
export interface FakeRequest {
  method: string;
  url: URL;
  sid: string | null;
  body: string | undefined;
  signal: AbortSignal;
}

/** What a script answers: a body (200), a Response, or `"hang"` to never answer. */
export type FakeAnswer = string | Response | "hang";

/** The handshake answer with the given timings. */
export function openPacket(sid = "s1", pingInterval = 10000, pingTimeout = 5000, upgrades: string[] = []): string {
  return "0" + JSON.stringify({ sid, upgrades, pingInterval, pingTimeout, maxPayload: 1000000 });
}

/** A `fetch` that answers from `script`; `pending` counts requests not yet settled. */
export function fakeFetch(script: (req: FakeRequest) => FakeAnswer | Promise<FakeAnswer>): {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  requests: FakeRequest[];
  pending(): number;
} {
  const requests: FakeRequest[] = [];
  let pending = 0;
  return {
    requests,
    pending: () => pending,
    async fetch(input, init) {
      const url = new URL(input);
      const signal = init.signal!;
      const req: FakeRequest = {
        method: init.method ?? "GET",
        url,
        sid: url.searchParams.get("sid"),
        body: init.body as string | undefined,
        signal,
      };
      requests.push(req);
      pending++;
      try {
        const answer = await script(req);
        if (answer === "hang") {
          return await new Promise<Response>((_, reject) => {
            const abort = () => reject(new DOMException("The operation was aborted", "AbortError"));
            if (signal.aborted) abort();
            else signal.addEventListener("abort", abort);
          });
        }
        return typeof answer === "string" ? new Response(answer, { status: 200 }) : answer;
      } finally {
        pending--;
      }
    },
  };
}

/** A `WebSocket` stand-in driven by `script`, which gets each instance to play with. */
export function fakeWebSocket(script: (ws: FakeWebSocket) => void): typeof WebSocket {
  return class extends FakeWebSocket {
    constructor(url: string) {
      super(url);
      queueMicrotask(() => script(this));
    }
  } as unknown as typeof WebSocket;
}

/** The scriptable socket: call `open()`, `message(data)`, `close()` to play the server. */
export class FakeWebSocket {
  url: string;
  binaryType = "blob";
  sent: Array<string | Uint8Array> = [];
  closed = false;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  constructor(url: string) {
    this.url = url;
  }
  send(data: string | Uint8Array): void {
    this.sent.push(data);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.onclose?.({ code: 1000, reason: "" } as CloseEvent));
  }
  /** Server side: the connection opens. */
  open(): void {
    this.onopen?.(new Event("open"));
  }
  /** Server side: a frame arrives. */
  message(data: string | ArrayBuffer): void {
    this.onmessage?.({ data } as MessageEvent);
  }
  /** Server side: the connection fails. */
  fail(): void {
    this.onerror?.(new Event("error"));
    this.closed = true;
    this.onclose?.({ code: 1006, reason: "" } as CloseEvent);
  }
}
