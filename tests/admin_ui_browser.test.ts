/**
 * The real Admin UI (the static files `@socket.io/admin-ui` ships in `ui/dist`) in headless
 * Chromium against our server with `instrument()`: the page, served by our server's fallback,
 * connects to `/admin` and lists a connected user's socket on its Sockets page. Needs Debian's
 * chromium (scripts/install_debian_packages.sh) and npm playwright-core.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { io as npmIo, type Socket as NpmSocket } from "socket.io-client";
import { fromWebFallback, Server } from "../server.ts";
import { instrument, type Instrumentation } from "../src/admin/mod.ts";
import { type Running, serve } from "./_server.ts";
import { type Chromium, launchChromium } from "./_chromium.ts";
import { until } from "./_helpers.ts";

const UI = fileURLToPath(new URL("../node_modules/@socket.io/admin-ui/ui/dist/", import.meta.url));
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "application/javascript",
  css: "text/css",
  png: "image/png",
  svg: "image/svg+xml",
};

function serveUi(request: Request): Response {
  const path = new URL(request.url).pathname;
  const file = path === "/" ? "index.html" : path.slice(1);
  if (file.includes("..") || !existsSync(UI + file)) return new Response("Not found", { status: 404 });
  const type = TYPES[file.split(".").pop() ?? ""] ?? "application/octet-stream";
  return new Response(readFileSync(UI + file), { headers: { "content-type": type } });
}

describe("Admin UI (@socket.io/admin-ui) in headless Chromium", () => {
  let io: Server;
  let admin: Instrumentation;
  let running: Running;
  let user: NpmSocket;
  let browser: Chromium | undefined;

  before(async () => {
    // socket.io's default heartbeat: with a short one, a loaded machine (the suite runs groups
    // side by side) could drop the user's socket (no reconnection) before the page lists it.
    io = new Server();
    admin = instrument(io, { auth: false, statsInterval: 500 });
    running = await serve(
      (request, options) => io.handle(request, { ...options, fallback: fromWebFallback(serveUi) }),
      () => io.close(),
    );
    user = npmIo(running.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    await new Promise((resolve) => user.on("connect", () => resolve(undefined)));
    browser = await launchChromium();
  });
  after(async () => {
    user?.disconnect();
    await browser?.close();
    admin?.close();
    await running?.close();
  });

  it("connects to /admin and lists the connected sockets", async () => {
    const context = browser!.context;
    // The page asks for web fonts and icons from CDNs: nothing leaves this machine.
    // deno-lint-ignore no-explicit-any
    await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route: any) => route.abort());
    await context.addInitScript((url: string) => {
      localStorage.setItem("server_url", url);
      localStorage.setItem("namespace", "/admin");
      localStorage.setItem("ws_only", "true");
    }, running.url);
    const page = await context.newPage();
    await page.goto(`${running.url}/#/sockets`);
    await until(() => io.of("/admin").sockets.size > 0, 10_000, "the UI to connect to /admin");
    const [uiSocket] = [...io.of("/admin").sockets.values()];
    assert.equal(uiSocket.handshake.headers["user-agent"]?.includes("Chrome"), true);
    await page.waitForFunction((id: string) => document.body.innerText.includes(id), user.id, { timeout: 10_000 });
    const text: string = await page.evaluate(() => document.body.innerText);
    assert.ok(text.includes(user.id!), "the user's socket id is on the Sockets page");
    await page.close();
  });
});
