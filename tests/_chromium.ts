/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by npm playwright-core,
 * with the flags this machine needs and a fresh profile (--user-data-dir) per launch. Fails (never
 * skips) when Chromium is missing.
 */

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CHROMIUM = "/usr/bin/chromium";

const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A launched browser: open pages, then close it (the profile is removed). */
export interface Chromium {
  // deno-lint-ignore no-explicit-any
  newPage(): Promise<any>;
  // deno-lint-ignore no-explicit-any
  context: any;
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh profile. */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install_debian_packages.sh`);
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "sio-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
