/**
 * What a Socket.IO server's own code costs per message on Bun, with the network taken out. The
 * servers' `Bun.serve` options (ours: `bunServeOptions`; socket.io 4.8: `@socket.io/bun-engine`'s
 * `handler()`) are driven in one process through stand-ins for Bun's server and WebSockets: the
 * stand-in hands the server's `websocket.message` handler a frame and counts what it `send`s. The
 * CPU time per message is then the server's JavaScript and the runtime's built-ins it calls (JSON
 * among them), from Bun handing over a frame to the reply's `send`, and nothing else: no system
 * calls, no event loop waiting on sockets.
 *
 * Why it exists: in the benchmark's echo and ack scenarios (`bench/run.ts`) the kernel's part of the
 * server's CPU is 50-70% on this machine, the same system calls for every server (one `recvfrom`
 * and one `sendto` per message), yet its amount per message differs by up to 2 µs between servers
 * and between rounds of one server. This isolates the part a server's code decides.
 *
 * `floor` is a handler that does only what any Socket.IO server must: parse the event's JSON and
 * stringify the reply (the benchmark's `raw-bun-json` server, in-process); for long-polling, it also
 * holds each session's GET until the POST's echo answers it.
 *
 *   bun bench/js_path.ts --child ours|sio|floor echo|ack|polling [MESSAGES]   (one measurement)
 *   deno run -A bench/js_path.ts [--rounds=5] [--messages=N] [--report]
 *     every server and scenario, each round a fresh Bun process per cell, servers in alternating
 *     order; prints a table; `--report` writes it into bench/RESULTS.md (its own marked section).
 *
 * @module
 */
import process from "node:process";
import { median } from "./_stats.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const CLIENTS = 100;
/** Long-polling sessions, as in the benchmark's polling scenario. */
const POLLING_CLIENTS = 50;
const PAD = "x".repeat(64);
const SERVERS = ["ours", "sio", "floor"] as const;
const SCENARIOS = ["echo", "ack", "polling"] as const;
const LABELS: Record<string, string> = {
  ours: "ours (Bun)",
  sio: "socket.io + bun-engine (Bun)",
  floor: "the floor (JSON.parse + JSON.stringify)",
};

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];

if (args[0] === "--child") await child(args[1], args[2], Number(args[3] ?? 300_000));
else await orchestrate();

/** One measurement in this (Bun) process: prints `{ server, scenario, messages, usPerMessage }` (WebSocket). */
async function child(server: string, scenario: string, messages: number): Promise<void> {
  const options = server === "ours" ? await oursOptions() : server === "sio" ? await sioOptions() : floorOptions();
  if (scenario === "polling") return await pollingChild(server, options, messages);
  const sockets: FakeSocket[] = [];
  for (let i = 0; i < CLIENTS; i++) sockets.push(await connect(options));
  // Flat strings, as Bun hands over a received frame (a string built here would be a rope, which
  // the first read of the server would flatten at its own expense).
  const frame = scenario === "echo" ? flat(`42["echo",{"pad":"${PAD}"}]`) : flat(`4217["ack",{"pad":"${PAD}"}]`);
  const reply = scenario === "echo" ? '42["echo",' : "4317[";
  const run = async (count: number) => {
    for (let sent = 0; sent < count; sent += CLIENTS) {
      for (const ws of sockets) options.websocket.message(ws, frame);
      // Servers that send later (socket.io's engine flushes on the next tick) get that tick.
      await tick();
      for (const ws of sockets) {
        if (!ws.last.startsWith(reply)) throw new Error(`${server}: unexpected reply ${ws.last}`);
        ws.last = "";
      }
    }
  };
  await run(messages / 5); // warm-up: the JIT's tiers
  (globalThis as Any).Bun.gc(true);
  const start = process.cpuUsage();
  await run(messages);
  const used = process.cpuUsage(start);
  console.log(JSON.stringify({ server, scenario, messages, usPerMessage: (used.user + used.system) / messages }));
  process.exit(0);
}

/**
 * Long-polling: each of {@linkcode POLLING_CLIENTS} sessions keeps a GET waiting and POSTs one echo at
 * a time, the benchmark's polling scenario. The requests and the reading of the answers are the
 * harness's own cost, the same for every server (the floor's figure holds them).
 */
async function pollingChild(server: string, options: Any, messages: number): Promise<void> {
  const fake = fakeServer(() => {});
  const base = "http://127.0.0.1/socket.io/?EIO=4&transport=polling";
  const text = async (request: Request) => {
    const response: Response = await options.fetch(request, fake);
    return await response.text();
  };
  // As a request from the network has it: with its length (an ASCII body here).
  const post = (url: string, body: string) =>
    new Request(url, { method: "POST", body, headers: { "content-length": String(body.length) } });
  const urls: string[] = [];
  for (let i = 0; i < POLLING_CLIENTS; i++) {
    const open = await text(new Request(base));
    const url = `${base}&sid=${encodeURIComponent(JSON.parse(open.slice(1)).sid)}`;
    await text(post(url, "40"));
    if (!(await text(new Request(url))).startsWith("40")) throw new Error(`${server}: no CONNECT answer`);
    urls.push(url);
  }
  const frame = flat(`42["echo",{"pad":"${PAD}"}]`);
  const one = async (url: string) => {
    const answer = text(new Request(url));
    await text(post(url, frame));
    const got = await answer;
    if (!got.startsWith('42["echo",')) throw new Error(`${server}: unexpected answer ${got.slice(0, 60)}`);
  };
  const run = async (count: number) => {
    for (let sent = 0; sent < count; sent += POLLING_CLIENTS) await Promise.all(urls.map(one));
  };
  await run(messages / 5);
  (globalThis as Any).Bun.gc(true);
  const start = process.cpuUsage();
  await run(messages);
  const used = process.cpuUsage(start);
  console.log(
    JSON.stringify({ server, scenario: "polling", messages, usPerMessage: (used.user + used.system) / messages }),
  );
  process.exit(0);
}

function flat(text: string): string {
  return JSON.parse(JSON.stringify(text));
}

async function oursOptions(): Promise<Any> {
  const { Server, bunServeOptions } = await import("../server.ts");
  const { setupApp } = await import("./servers/_app.ts");
  const io = new Server();
  setupApp(io);
  const engine = io.engine;
  return bunServeOptions((request, options) => engine.handle(request, options));
}

async function sioOptions(): Promise<Any> {
  const { Server: Engine } = await import("@socket.io/bun-engine");
  const { Server } = await import("socket.io");
  const { setupApp } = await import("./servers/_app.ts");
  const io = new Server();
  const engine = new Engine({ path: "/socket.io/" });
  io.bind(engine as never);
  setupApp(io);
  return engine.handler();
}

/** The floor: bench/servers/raw.ts's `--json` echo (the ack answers the same way). */
function floorOptions(): Any {
  // Long-polling: one waiting GET per session, answered by the next POST's echo.
  const waiting = new Map<string, (body: string) => void>();
  const queued = new Map<string, string>();
  let sessions = 0;
  const headers = { "content-type": "text/plain; charset=UTF-8" };
  return {
    async fetch(request: Request, server: Any) {
      const sid = new URL(request.url).searchParams.get("sid");
      if (sid === null) {
        if (request.headers.get("upgrade") === "websocket") return server.upgrade(request, { data: {} });
        return new Response(`0{"sid":"s${++sessions}","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`, {
          headers,
        });
      }
      if (request.method === "GET") {
        const ready = queued.get(sid);
        queued.delete(sid);
        return new Response(ready ?? await new Promise<string>((resolve) => waiting.set(sid, resolve)), { headers });
      }
      const body = await request.text();
      const answer = body === "40"
        ? '40{"sid":"rawsocketrawsocketraw"}'
        : "42" + JSON.stringify(JSON.parse(body.slice(2)));
      const poll = waiting.get(sid);
      waiting.delete(sid);
      if (poll) poll(answer);
      else queued.set(sid, answer);
      return new Response("ok", { headers });
    },
    websocket: {
      open(ws: Any) {
        ws.send('0{"sid":"rawrawrawrawrawrawraw","upgrades":[],"pingInterval":25000,"pingTimeout":20000}');
      },
      message(ws: Any, data: string) {
        if (data === "40") ws.send('40{"sid":"rawsocketrawsocketraw"}');
        else if (data.charCodeAt(2) === 91 /* [ */) ws.send("42" + JSON.stringify(JSON.parse(data.slice(2))));
        else ws.send("4317" + JSON.stringify([JSON.parse(data.slice(4))[1]]));
      },
    },
  };
}

interface FakeSocket {
  data: unknown;
  last: string;
}

/** Bun's server as a fetch handler sees it: the upgrade keeps the handler's `data`. */
function fakeServer(keep: (data: unknown) => void): Any {
  return {
    upgrade(_request: Request, init: { data: unknown }) {
      keep(init.data);
      return true;
    },
    publish: () => 0,
    requestIP: () => ({ address: "127.0.0.1", family: "IPv4", port: 1 }),
    timeout() {},
  };
}

/** A WebSocket through the server's own fetch and `open`, then CONNECT to the main namespace. */
async function connect(options: Any): Promise<FakeSocket> {
  let data: unknown;
  const request = new Request("http://127.0.0.1/socket.io/?EIO=4&transport=websocket", {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
  await options.fetch(request, fakeServer((d) => data = d));
  const ws: Any = {
    data,
    last: "",
    readyState: 1,
    remoteAddress: "127.0.0.1",
    send(frame: string) {
      this.last = frame;
      return frame.length;
    },
    sendText(frame: string) {
      return this.send(frame);
    },
    getBufferedAmount: () => 0,
    subscribe() {},
    unsubscribe() {},
    isSubscribed: () => false,
    publish: () => 0,
    close() {},
    cork: (fn: () => void) => fn(),
  };
  options.websocket.open(ws);
  await tick();
  options.websocket.message(ws, "40");
  for (let i = 0; i < 100 && !ws.last.startsWith("40"); i++) await tick();
  if (!ws.last.startsWith("40")) throw new Error(`no CONNECT answer: ${ws.last}`);
  return ws;
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Every server and scenario, `--rounds` fresh processes each, alternating order; the table. */
async function orchestrate(): Promise<void> {
  const { spawnSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const root = fileURLToPath(new URL("../", import.meta.url));
  const rounds = Number(flag("rounds") ?? 5);
  const messagesOf = (scenario: string) => Number(flag("messages") ?? (scenario === "polling" ? 200_000 : 1_000_000));
  const results: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [...SERVERS] : [...SERVERS].reverse();
    for (const scenario of SCENARIOS) {
      for (const server of order) {
        const out = spawnSync(
          `${root}node_modules/.bin/bun`,
          ["bench/js_path.ts", "--child", server, scenario, String(messagesOf(scenario))],
          { cwd: root, encoding: "utf8" },
        );
        if (out.status !== 0) throw new Error(`${server} ${scenario}: ${out.stderr}`);
        const { usPerMessage } = JSON.parse(out.stdout.trim().split("\n").pop()!);
        (results[`${server} ${scenario}`] ??= []).push(usPerMessage);
        console.error(`round ${round + 1}: ${server} ${scenario} ${usPerMessage.toFixed(3)} µs`);
      }
    }
  }
  const bun = spawnSync(`${root}node_modules/.bin/bun`, ["--version"], { encoding: "utf8" }).stdout.trim();
  const us = (server: string, scenario: string) => median(results[`${server} ${scenario}`]);
  const rows = SCENARIOS.flatMap((scenario) =>
    SERVERS.map((server) => {
      const own = us(server, scenario);
      const beyond = server === "floor" ? "–" : (own - us("floor", scenario)).toFixed(2);
      const ratio = server === "floor" ? "–" : `${(own / us("sio", scenario)).toFixed(2)}×`;
      const beyondRatio = server === "floor"
        ? "–"
        : `${((own - us("floor", scenario)) / (us("sio", scenario) - us("floor", scenario))).toFixed(2)}×`;
      return `| ${scenario} | ${LABELS[server]} | ${own.toFixed(2)} | ${ratio} | ${beyond} | ${beyondRatio} |`;
    })
  );
  const command = `deno run -A bench/js_path.ts${args.map((a) => " " + a).join("")}`;
  const section = [
    "<!-- js_path -->",
    "## The server's own code per message on Bun, the network taken out (issue 15, point 2)",
    "",
    `Produced by \`${command}\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, Bun ${bun}. ` +
    "Each server's `Bun.serve` options are driven in one process through stand-ins for Bun's server and " +
    `WebSockets (${CLIENTS} connections, the benchmark's app and 64-byte payload): CPU time per message from ` +
    "the `message` handler getting a frame to the reply's `send`, no system calls. The median of " +
    `${rounds} rounds, a fresh process per cell, ${messagesOf("echo").toLocaleString("en")} messages (long-polling ` +
    `${
      messagesOf("polling").toLocaleString("en")
    }, ${POLLING_CLIENTS} sessions each with a GET waiting and POSTing one ` +
    "echo at a time, the harness making the requests and reading the answers) after a fifth as many to warm up. " +
    "The floor is a handler that does only what every Socket.IO server must (parse the event's JSON, " +
    "stringify the reply; for long-polling also hold the GET and answer it with the POST's echo, with the " +
    "harness's requests): beyond it is what the rest of the server costs. In the end-to-end scenarios, the " +
    "kernel's share of the server's CPU (one `recvfrom` and one `sendto` per WebSocket message, the same for " +
    "every server) is most of each figure and moves by up to 2 µs per message between processes of one " +
    "server: this table is the part the code decides.",
    "",
    "| Scenario | Server | CPU µs/msg | ÷ socket.io + bun-engine | beyond the floor µs | ÷ socket.io + bun-engine's |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    "Every round (µs per message): " +
    Object.entries(results).map(([k, v]) => `${k} ${v.map((x) => x.toFixed(3)).join(" / ")}`).join("; ") + ".",
    "<!-- /js_path -->",
  ].join("\n");
  console.log(section);
  if (args.includes("--report")) {
    const { writeMarkedSection } = await import("./_results_section.ts");
    writeMarkedSection(fileURLToPath(new URL("./RESULTS.md", import.meta.url)), "js_path", section);
  }
  process.exit(0);
}
