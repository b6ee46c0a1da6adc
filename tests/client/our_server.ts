// The client scenario server on our own Server (server.ts), served by Deno.serve.
//
//   deno run -A tests/client/our_server.ts PORT     (0 picks a free port)
//
// Prints `listening on http://127.0.0.1:PORT`; exits on SIGTERM/SIGINT. Scenarios: see _suite.ts.
import { Server } from "../../server.ts";
import type { Socket } from "../../src/io/socket.ts";
import type { ExtendedError } from "../../src/io/namespace.ts";

// deno-lint-ignore no-explicit-any
const Deno = (globalThis as any).Deno;
const port = Number(Deno.args[0] ?? 0);
const io = new Server({
  pingInterval: 300,
  pingTimeout: 200,
  connectTimeout: 1000,
  maxHttpBufferSize: 1e6,
  cors: { origin: "*" },
  cookie: { name: "lb", path: "/" },
});

// On another path, a server with connection state recovery (it appends an offset to every event
// it sends, so the other scenarios do not use it).
const recovering = new Server({
  path: "/recovery/",
  pingInterval: 300,
  pingTimeout: 200,
  cors: { origin: "*" },
  connectionStateRecovery: { maxDisconnectionDuration: 10000, skipMiddlewares: true },
});
recovering.on("connection", (socket) => {
  socket.on("broadcast", (...args: unknown[]) => recovering.emit("broadcast-back", ...args));
  socket.on("drop", () => socket.conn.close());
});
const recoveringHandle = recovering.handler();

const tries = new Map<string, number>();
const cookies = new Map<string, string | null>();

// deno-lint-ignore no-explicit-any
function scenarios(socket: Socket<any, any>) {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args: unknown[]) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args: unknown[]) => {
    const ack = args.pop() as (...a: unknown[]) => void;
    ack(...args);
  });
  socket.on("ack-never", () => {});
  socket.on("flaky", (key: string, ack: (v: string) => void) => {
    const n = (tries.get(key) ?? 0) + 1;
    tries.set(key, n);
    if (n >= 2) ack(`ok after ${n}`);
  });
  socket.on("ask", (question: unknown) => {
    socket.emit("question", question, (answer: unknown) => socket.emit("answer", answer));
  });
  socket.on("broadcast", (...args: unknown[]) => socket.nsp.emit("broadcast-back", ...args));
  socket.on("drop", () => socket.conn.close());
  socket.on("server-disconnect", () => socket.disconnect());
  socket.on(
    "whoami",
    (ack: (v: unknown) => void) =>
      ack({ id: socket.id, recovered: socket.recovered, transport: socket.conn.transportName }),
  );
  socket.on(
    "headers",
    (ack: (v: unknown) => void) =>
      ack({ cookie: cookies.get(socket.conn.id) ?? null, extra: socket.handshake.headers["x-extra"] ?? null }),
  );
}

io.on("connection", scenarios);
io.of("/custom").on("connection", scenarios);
io.of("/private").use((socket, next) => {
  if ((socket.handshake.auth as { token?: string })?.token === "ok") return next();
  const err: ExtendedError = new Error("not authorized");
  err.data = { reason: "bad token" };
  next(err);
}).on("connection", scenarios);

// The browser test loads a page and the bundle from here (same origin as the server). The bundle is
// built from the sources in memory on its first request: nothing is written to dist/, which other
// test runs may be building at the same time.
let bundle: Promise<string> | undefined;
const PAGE = `<!doctype html><meta charset="utf-8"><title>client test</title>
<script type="module">import * as client from "/client.min.js"; window.client = client; window.ready = true;</script>`;
const handle = io.handler({
  fallback: async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/") return new Response(PAGE, { headers: { "content-type": "text/html" } });
    if (pathname === "/client.min.js") {
      bundle ??= import("../../scripts/build_browser.ts").then(async ({ buildBrowserBundles }) =>
        (await buildBrowserBundles()).esm.code
      );
      const code = await bundle;
      return new Response(code, { headers: { "content-type": "text/javascript" } });
    }
    return new Response("Not found", { status: 404 });
  },
});
const server = Deno.serve({
  port,
  hostname: "127.0.0.1",
  onListen: (addr: { port: number }) => console.log(`listening on http://127.0.0.1:${addr.port}`),
}, (request: Request, info: unknown) => {
  const sid = new URL(request.url).searchParams.get("sid");
  if (sid) cookies.set(sid, request.headers.get("cookie"));
  if (new URL(request.url).pathname.startsWith("/recovery/")) return recoveringHandle(request, info as never);
  return handle(request, info as never);
});

async function stop() {
  io.close();
  recovering.close();
  await server.shutdown();
  Deno.exit(0);
}
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
