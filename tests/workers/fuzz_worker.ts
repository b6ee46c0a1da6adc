/**
 * The fuzz and leak target in workerd (bundled by `_start.mjs`): our server inside a Durable
 * Object, with the handlers of `tests/fuzz/_handlers.ts`. The Worker sends `/socket.io/...` to the
 * object bound as `TARGET` (one object, `routeToSocketIo`) and `GET /__counts` to the same object,
 * which answers with what a run checks: the server's counters, the WebSockets the platform holds
 * for it, the isolate's live timers, and what was logged or left unhandled (`_isolate_watch.ts`);
 * and, for diagnostics, when the heartbeat alarm fires next.
 * Anything else is 404, as a deployment would answer.
 *
 * Classes (the launcher binds one of them as `TARGET`):
 * - `FuzzObject`: the fuzz options, WebSocket Hibernation API (heartbeat from alarms);
 * - `FuzzPlainObject`: the fuzz options, in-memory WebSockets (`hibernation: false`, engine timers);
 * - `LeakObject`, `LeakPlainObject`: the same with the leak tests' short timers.
 *
 * @module
 */

import {
  defineSocketIoObject,
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
  routeToSocketIo,
  type Server,
  type SocketIoObjectOptions,
} from "../../src/runtime/durable_object.ts";
import { counts, engineTimings, FUZZ_SERVER_OPTIONS, LEAK_SERVER_OPTIONS, setupFuzzServer } from "../fuzz/_handlers.ts";
import { watchIsolate } from "./_isolate_watch.ts";

/** Where the object answers with its counters (`_fuzz_target.ts` asks there; a Worker module exports only handlers). */
const COUNTS_PATH = "/__counts";

// Before any server exists, so that every timer and error log of the isolate is seen.
const watch = watchIsolate();

/**
 * The object's setup: the fuzz handlers, and the counters endpoint. `hibernation`: the object
 * accepts its WebSockets with the Hibernation API, so the platform's list of them is a counter too
 * (in-memory WebSocketPairs are in no such list).
 */
function setup(hibernation: boolean) {
  return (io: Server, _env: unknown, state: DurableObjectStateLike): (request: Request) => Promise<Response> => {
    setupFuzzServer(io);
    return async (request) => {
      if (request.method !== "GET" || new URL(request.url).pathname !== COUNTS_PATH) {
        return new Response("Not Found", { status: 404 });
      }
      const platform = hibernation ? { webSockets: state.getWebSockets().length } : {};
      return Response.json({
        counts: { ...counts(io), ...platform },
        engine: engineTimings(io),
        // When the heartbeat alarm fires next (diagnostics: with WebSocket sessions there must be one).
        alarm: hibernation ? await state.storage.getAlarm() : null,
        timers: watch.timers(),
        report: watch.report(),
      });
    };
  };
}

const FUZZ: SocketIoObjectOptions = FUZZ_SERVER_OPTIONS;
const LEAK: SocketIoObjectOptions = { ...FUZZ_SERVER_OPTIONS, ...LEAK_SERVER_OPTIONS };

/** The fuzz target with the WebSocket Hibernation API. */
export const FuzzObject = defineSocketIoObject(setup(true), FUZZ);
/** The fuzz target with in-memory WebSockets. */
export const FuzzPlainObject = defineSocketIoObject(setup(false), { ...FUZZ, hibernation: false });
/** The leak target with the WebSocket Hibernation API. */
export const LeakObject = defineSocketIoObject(setup(true), LEAK);
/** The leak target with in-memory WebSockets. */
export const LeakPlainObject = defineSocketIoObject(setup(false), { ...LEAK, hibernation: false });

export default {
  fetch(request: Request, env: { TARGET: DurableObjectNamespaceLike }): Promise<Response> | Response {
    const routed = routeToSocketIo(request, env.TARGET, "target");
    if (routed) return routed;
    if (new URL(request.url).pathname === COUNTS_PATH) {
      return env.TARGET.get(env.TARGET.idFromName("target")).fetch(request);
    }
    return new Response("Not Found", { status: 404 });
  },
};
