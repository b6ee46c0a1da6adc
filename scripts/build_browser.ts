/**
 * Builds the browser bundle of the client with esbuild: `dist/browser/client.min.js`, an ES module
 * exporting `io`, `connect`, `Manager`, `Socket`, `SimpleClient` and the rest of `client.ts`, and
 * prints its size minified and min+gzip next to socket.io-client's own ESM bundle.
 *
 *   deno run -A scripts/build_browser.ts      (or: node scripts/build_browser.ts)
 *
 * @module
 */
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const outfile = `${root}dist/browser/client.min.js`;
mkdirSync(`${root}dist/browser`, { recursive: true });

const result = await build({
  entryPoints: [`${root}client.ts`],
  outfile,
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome100", "firefox100", "safari15.4"],
  legalComments: "none",
  metafile: true,
  write: true,
  plugins: [{
    // In the bundle the code knows it runs in a browser, so the cookie jar and the header code for
    // server runtimes drop out.
    name: "browser-env",
    setup(b) {
      b.onLoad({ filter: /src[\\/]client[\\/]env\.ts$/ }, () => ({
        contents: "export const isBrowser = true;",
        loader: "ts",
      }));
      // Browsers keep cookies themselves: the jar is never created there.
      b.onLoad({ filter: /src[\\/]client[\\/]cookie_jar\.ts$/ }, () => ({
        contents: "export class CookieJar {}",
        loader: "ts",
      }));
    },
  }],
});

const code = readFileSync(outfile);
writeFileSync(`${root}dist/browser/meta.json`, JSON.stringify(result.metafile));
const gzip = (bytes: Uint8Array) => gzipSync(bytes, { level: 9 }).length;
const kb = (n: number) => (n / 1024).toFixed(1) + " KB";
console.log(`dist/browser/client.min.js: ${kb(code.length)} min, ${kb(gzip(code))} min+gzip (${gzip(code)} bytes)`);
const reference = `${root}node_modules/socket.io-client/dist/socket.io.esm.min.js`;
if (existsSync(reference)) {
  const ref = readFileSync(reference);
  console.log(`socket.io-client ${"socket.io.esm.min.js"}: ${kb(ref.length)} min, ${kb(gzip(ref))} min+gzip`);
}
