/**
 * Loaded with `node --import` before a compat program: with `COMPAT_TARGET=ours`, the program's
 * imports of socket.io, socket.io-client and @socket.io/redis-adapter resolve to this repository's
 * modules (socket.io to the entries in `COMPAT_SHIMS`, made by the harness as the npm package makes
 * them); with `COMPAT_TARGET=reference` nothing changes and npm's packages load.
 *
 * @module
 */
import { registerHooks } from "node:module";
import process from "node:process";

const root = new URL("../../", import.meta.url);
const shims = process.env.COMPAT_SHIMS;

/** What each package becomes: one module, or one per kind of import. */
const ours = {
  "socket.io": { import: `${shims}/socket.io.mjs`, require: `${shims}/socket.io.cjs` },
  "socket.io-client": "client.ts",
  "@socket.io/redis-adapter": "src/adapters/redis/mod.ts",
};

if (process.env.COMPAT_TARGET === "ours") {
  // A program that loaded none of ours would test socket.io twice: it fails instead.
  const resolved = new Set();
  process.on("exit", () => {
    if (resolved.size > 0) return;
    console.error("compat: no import resolved to ours");
    process.exitCode = 97;
  });
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const entry = ours[specifier];
      if (entry === undefined) return nextResolve(specifier, context);
      resolved.add(specifier);
      const path = typeof entry === "string"
        ? new URL(entry, root)
        : new URL(`file://${context.conditions.includes("require") ? entry.require : entry.import}`);
      return { url: path.href, shortCircuit: true };
    },
  });
}
