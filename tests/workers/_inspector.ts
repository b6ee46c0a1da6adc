/**
 * The heap of a Worker's isolate in workerd, through workerd's inspector (Chrome DevTools
 * Protocol over a WebSocket; `/json` lists one target per isolate). workerd's inspector does not
 * answer `HeapProfiler.collectGarbage`, but a heap snapshot starts with a full collection, so
 * {@linkcode isolateHeapUsed} takes two snapshots (their chunks are dropped) and then reads
 * `Runtime.getHeapUsage`: the heap in use after a forced collection, like the in-process figure.
 * A few MB of isolate take a fraction of a second.
 *
 * With the inspector on, V8 keeps the last 1,000 exceptions workerd reports to it (about 110 bytes
 * each): the `Network connection lost.` errors of responses written to clients that had left (one
 * per aborted poll, see `_workerd_log.ts`) show as slow heap growth until 1,000 are kept, then
 * none (checked with heap snapshot diffs over 20,000 soak cycles).
 *
 * @module
 */

/** One of workerd's inspector targets (an isolate). */
interface InspectorTarget {
  id: string;
  webSocketDebuggerUrl: string;
}

/** The user Worker's isolate (Durable Objects of the same script run in it). */
async function userIsolate(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/json`);
  const targets = await response.json() as InspectorTarget[];
  const target = targets.find((t) => t.id.startsWith("core:user:"));
  if (!target) throw new Error(`No user Worker among the inspector's targets: ${targets.map((t) => t.id).join(", ")}`);
  // workerd names itself localhost in the URL; it listens on 127.0.0.1.
  const url = new URL(target.webSocketDebuggerUrl);
  url.hostname = "127.0.0.1";
  return url.href;
}

/** A small CDP session: `call` sends a command and resolves with its answer (any shape). */
class Session {
  #ws: WebSocket;
  #next = 0;
  #pending = new Map<number, (message: Record<string, unknown>) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener("message", (event: MessageEvent) => {
      if (typeof event.data !== "string") return;
      // Heap snapshot chunks arrive as events; only answers carry an id.
      if (event.data.slice(0, 100).includes('"HeapProfiler.addHeapSnapshotChunk"')) return;
      const message = JSON.parse(event.data) as Record<string, unknown>;
      const id = message.id as number | undefined;
      if (id !== undefined) this.#pending.get(id)?.(message);
      if (id !== undefined) this.#pending.delete(id);
    });
    ws.addEventListener("close", () => {
      for (const resolve of this.#pending.values()) resolve({ error: { message: "inspector closed" } });
      this.#pending.clear();
    });
  }

  static async open(url: string, ms: number): Promise<Session> {
    const ws = new WebSocket(url);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.addEventListener("open", () => resolve());
        ws.addEventListener("error", () => reject(new Error("The inspector WebSocket failed")));
      }),
      ms,
      "the inspector WebSocket to open",
    );
    return new Session(ws);
  }

  call(method: string, params: Record<string, unknown>, ms: number): Promise<Record<string, unknown>> {
    const id = ++this.#next;
    const answer = new Promise<Record<string, unknown>>((resolve) => this.#pending.set(id, resolve));
    this.#ws.send(JSON.stringify({ id, method, params }));
    return withTimeout(answer, ms, method).then((message) => {
      if (message.error) throw new Error(`${method}: ${JSON.stringify(message.error)}`);
      return message;
    });
  }

  close(): void {
    this.#ws.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fail = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, fail]).finally(() => clearTimeout(timer));
}

/**
 * The heap in use of the user Worker's isolate, in bytes, after forced collections (through heap
 * snapshots), from workerd's inspector on 127.0.0.1:`port`.
 */
export async function isolateHeapUsed(port: number, ms = 60000): Promise<number> {
  const session = await Session.open(await userIsolate(port), ms);
  try {
    for (let i = 0; i < 2; i++) {
      await session.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false }, ms);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const usage = await session.call("Runtime.getHeapUsage", {}, ms);
    const used = (usage.result as { usedSize?: unknown } | undefined)?.usedSize;
    if (typeof used !== "number") throw new Error(`Runtime.getHeapUsage: ${JSON.stringify(usage)}`);
    return used;
  } finally {
    session.close();
  }
}
