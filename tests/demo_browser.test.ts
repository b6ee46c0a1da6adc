// The chat demo (examples/demo, what `npx deno task demo` runs) in headless Chromium: the demo is
// started on Deno on a free port, three pages load it (with our client from
// /socket.io/socket.io.min.js), two of them talk in one room, a third one in another room hears
// none of it; then SIGTERM closes the server gracefully. Needs Debian's chromium
// (scripts/install_debian_packages.sh installs it): fails, does not skip, without it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";

import process from "node:process";
import { bin, ROOT } from "./client/_spawn.ts";
import { type Chromium, launchChromium } from "./_chromium.ts";

/**
 * Waits poll on a timer: the default (requestAnimationFrame) is throttled to about once a second in
 * the pages that are not in front.
 */
const POLL = { polling: 20, timeout: 5000 };

interface Demo {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  output(): string;
}

/** Starts the demo as `deno task demo` does, on a free loopback port. */
function startDemo(): Promise<Demo> {
  const child = spawn(
    bin("deno"),
    ["run", "--allow-net", "--allow-env", "--allow-read", "examples/demo/main.ts"],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", PORT: "0", HOST: "127.0.0.1" },
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the demo did not start in 15 s:\n${output}`));
    }, 15000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited early (${code}):\n${output}`));
    });
    child.stderr!.on("data", (chunk) => (output += String(chunk)));
    child.stdout!.on("data", (chunk) => {
      output += String(chunk);
      const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${match[1]}`, exited, output: () => output });
      }
    });
  });
}

// deno-lint-ignore no-explicit-any
type Page = any;

/** The texts of the page's chat log, its member list, or its room list. */
function texts(page: Page, selector: string): Promise<string[]> {
  // A log line is a <li> with an optional <time> and the text in a <span>.
  return page.$$eval(selector, (els: Element[]) => els.map((el) => (el.querySelector("span") ?? el).textContent ?? ""));
}

/** Waits until the log of `page` has the line `text`. */
function waitForLine(page: Page, text: string): Promise<unknown> {
  return page.waitForFunction(
    (text: string) => [...document.querySelectorAll("#log li span")].some((span) => span.textContent === text),
    text,
    POLL,
  );
}

async function login(page: Page, url: string, name: string): Promise<void> {
  await page.bringToFront();
  await page.goto(url + "/");
  await page.fill("#name", name);
  await page.click("#login button");
  await page.waitForSelector("#chat", { state: "visible" });
  await page.waitForSelector("#login", { state: "hidden" });
}

async function joinRoom(page: Page, room: string): Promise<void> {
  await page.bringToFront();
  await page.fill("#room", room);
  await page.click("#join button");
  await page.waitForFunction(
    (room: string) => document.getElementById("current")!.textContent === `#${room}`,
    room,
    POLL,
  );
}

async function say(page: Page, text: string): Promise<void> {
  await page.bringToFront();
  await page.fill("#text", text);
  await page.click("#send button");
}

describe("chat demo in headless Chromium", () => {
  let demo: Demo | undefined;
  let browser: Chromium | undefined;
  let ann: Page, bob: Page, cy: Page;

  before(async () => {
    demo = await startDemo();
    browser = await launchChromium();
    const context = browser.context;
    context.setDefaultTimeout(5000);
    [ann, bob, cy] = await Promise.all([context.newPage(), context.newPage(), context.newPage()]);
  });

  after(async () => {
    await browser?.close();
    if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill("SIGKILL");
      await demo.exited;
    }
    demo?.child.stdout?.destroy();
    demo?.child.stderr?.destroy();
  });

  it("serves the page with our client bundle from /socket.io/socket.io.min.js", async () => {
    await ann.goto(demo!.url + "/");
    const page = await ann.evaluate(() => ({
      script: document.querySelector("script[src]")!.getAttribute("src"),
      io: typeof (globalThis as { io?: unknown }).io,
    }));
    assert.deepEqual(page, { script: "/socket.io/socket.io.min.js", io: "function" });
  });

  it("shows only the name form until connected", async () => {
    assert.equal(await ann.isVisible("#login"), true);
    assert.equal(await ann.isVisible("#chat"), false);
  });

  it("rejects a connection without a name (auth + middleware)", async () => {
    const error = await ann.evaluate(() =>
      new Promise((resolve) => {
        // deno-lint-ignore no-explicit-any
        const socket = (globalThis as any).io({ forceNew: true, auth: { name: "   " } });
        socket.on("connect_error", (err: Error) => {
          socket.disconnect();
          resolve(err.message);
        });
      })
    );
    assert.equal(error, "Pick a name first");
  });

  it("two pages in one room talk to each other and see who is there", async () => {
    await login(ann, demo!.url, "ann");
    await joinRoom(ann, "lobby");
    await login(bob, demo!.url, "bob");
    await joinRoom(bob, "lobby");
    await waitForLine(ann, "bob joined #lobby");
    assert.deepEqual(await texts(ann, "#members li"), ["ann", "bob"]);
    assert.deepEqual(await texts(bob, "#members li"), ["ann", "bob"]);
    assert.deepEqual(await texts(ann, "#rooms li"), ["#lobby (2)"]);

    await say(ann, "hi bob");
    await waitForLine(bob, "ann: hi bob");
    await say(bob, "hello ann");
    await waitForLine(ann, "bob: hello ann");
    await waitForLine(bob, "bob: hello ann");
    const transport = await ann.evaluate(() => document.getElementById("status")!.textContent);
    assert.match(transport, /^Connected as ann \((polling|websocket)\)\.$/);
  });

  it("a page in another room hears none of it, and can move to the first room", async () => {
    await login(cy, demo!.url, "cy");
    await joinRoom(cy, "other");
    // The server sends in order on each connection: once a page has its own line back, a line
    // broadcast before it would have arrived already if it had been sent to that page.
    await say(ann, "lobby only");
    await waitForLine(bob, "ann: lobby only");
    await say(cy, "other only");
    await waitForLine(cy, "cy: other only");
    await say(bob, "still lobby");
    await waitForLine(ann, "bob: still lobby");
    await waitForLine(bob, "bob: still lobby");
    assert.deepEqual(await texts(cy, "#log li"), ["You joined #other", "cy: other only"]);
    for (const page of [ann, bob]) {
      assert.ok(!(await texts(page, "#log li")).some((line) => line.includes("other only")));
    }
    assert.deepEqual(await texts(cy, "#members li"), ["cy"]);
    assert.deepEqual(await texts(ann, "#rooms li"), ["#lobby (2)", "#other (1)"]);

    // cy moves to the lobby from the room list; bob leaves it.
    await cy.bringToFront();
    await cy.click("#rooms button >> text=#lobby");
    await waitForLine(ann, "cy joined #lobby");
    assert.deepEqual(await texts(ann, "#members li"), ["ann", "bob", "cy"]);
    await bob.bringToFront();
    await bob.click("#leave");
    await waitForLine(bob, "You left #lobby");
    await waitForLine(ann, "bob left #lobby");
    assert.deepEqual(await texts(ann, "#members li"), ["ann", "cy"]);
    assert.equal(await bob.isDisabled("#text"), true);
    // The server refuses a message from a socket in no room (the page's own `socket`).
    assert.deepEqual(await bob.evaluate("new Promise((resolve) => socket.emit('message', 'hello?', resolve))"), {
      ok: false,
      error: "Join a room first",
    });
  });

  it("SIGTERM closes the server gracefully: the pages are told, the process exits 0", async () => {
    demo!.child.kill("SIGTERM");
    // io.close() closes every session (socket.io's "transport close" on the client, which then
    // tries to reconnect), then the HTTP server stops and the process says so.
    for (const page of [ann, bob, cy]) await waitForLine(page, "Disconnected: transport close");
    const code = await demo!.exited;
    assert.match(demo!.output(), /chat demo stopped/);
    // Deno's node:child_process reports a child it sent a signal to as killed by it, even when the
    // child handled the signal and exited by itself.
    if (!("Deno" in globalThis)) assert.equal(code, 0);
  });
});
