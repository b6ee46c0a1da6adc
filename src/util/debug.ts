/**
 * Debug logging, quiet by default: each component logs under a name (`sio:engine`,
 * `sio:engine:polling`, `sio:io:client`, `sio:client:manager`...), and a pattern like socket.io's
 * `DEBUG=socket.io*` turns names on: comma-separated, `*` matches anything, a leading `-` excludes.
 * The runtime layer reads the `DEBUG` environment variable at startup; `enableDebug()` (or the
 * server's `debug` option) sets it from code.
 *
 * @module
 */

import { readEnv } from "./platform.ts";

/** A component's logger: call it like `console.debug`. */
export interface Debugger {
  (message: string, ...args: unknown[]): void;
  /** Whether this component logs now. */
  readonly enabled: boolean;
}

let includes: RegExp[] = [];
let excludes: RegExp[] = [];
const loggers = new Map<string, { enabled: boolean }>();
let sink: (line: string) => void = (line) => console.debug(line);

function show(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Fills `%s`, `%d`, `%o`, `%j` with `args`, in order; extra args are appended. */
function format(message: string, args: unknown[]): string {
  let i = 0;
  let out = message.replace(/%[sdoj%]/g, (spec) => {
    if (spec === "%%") return "%";
    if (i >= args.length) return spec;
    const value = args[i++];
    return spec === "%d" ? String(Number(value)) : show(value);
  });
  for (; i < args.length; i++) out += " " + show(args[i]);
  return out;
}

function toRegExp(glob: string): RegExp {
  return new RegExp("^" + glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$");
}

function isEnabled(name: string): boolean {
  if (excludes.some((re) => re.test(name))) return false;
  return includes.some((re) => re.test(name));
}

/**
 * Turns logging on for the names matching `pattern` (`"sio:*"`, `"sio:engine*,-sio:engine:polling"`,
 * `"socket.io*"` is accepted as `sio:*`); `""` or `false` turns it off.
 *
 * @example
 * ```ts
 * import { enableDebug } from "./debug.ts";
 * enableDebug("sio:engine*");
 * ```
 */
export function enableDebug(pattern: string | boolean): void {
  const text = pattern === true ? "sio:*" : pattern === false ? "" : pattern;
  includes = [];
  excludes = [];
  for (let part of text.split(/[\s,]+/)) {
    if (!part) continue;
    const exclude = part.startsWith("-");
    if (exclude) part = part.slice(1);
    if (part.startsWith("socket.io") || part.startsWith("engine")) part = "sio:*";
    (exclude ? excludes : includes).push(toRegExp(part));
  }
  for (const [name, state] of loggers) state.enabled = isEnabled(name);
}

/**
 * Sends log lines somewhere else than `console.debug` (a test, a logger of the application's).
 *
 * @example
 * ```ts
 * import { setDebugSink } from "./debug.ts";
 * const lines: string[] = [];
 * setDebugSink((line) => lines.push(line));
 * ```
 */
export function setDebugSink(write: (line: string) => void): void {
  sink = write;
}

/**
 * The logger of component `name`: cheap when off (one boolean test).
 *
 * @example
 * ```ts
 * import { createDebug } from "./debug.ts";
 * const debug = createDebug("sio:engine");
 * debug("refused %s", "a request");
 * ```
 */
export function createDebug(name: string): Debugger {
  let state = loggers.get(name);
  if (!state) {
    state = { enabled: isEnabled(name) };
    loggers.set(name, state);
  }
  const s = state;
  const log = (message: string, ...args: unknown[]) => {
    if (s.enabled) sink(`${new Date().toISOString()} ${name} ${format(message, args)}`);
  };
  Object.defineProperty(log, "enabled", { get: () => s.enabled });
  return log as Debugger;
}

/**
 * The `DEBUG` environment variable where the runtime has one (Node, Bun; Deno only when env access
 * is already granted: never a permission prompt for this). `undefined` in browsers.
 *
 * @example
 * ```ts
 * import { enableDebug, readDebugEnvironment } from "./debug.ts";
 * const pattern = readDebugEnvironment();
 * if (pattern) enableDebug(pattern);
 * ```
 */
export function readDebugEnvironment(): string | undefined {
  return readEnv("DEBUG");
}
