/**
 * Reads workerd's verbose log for what a run must know: the uncaught JavaScript exceptions
 * (`worker.c++: info: uncaught exception; source = Uncaught ...; stack = ...`, with the stack
 * lines after it). Every exception thrown by JavaScript code shows there (and once more at the
 * I/O level, `io-context.c++: ...; exception = ...`, which is not collected: those lines repeat
 * the JavaScript ones or are workerd's own I/O failures).
 *
 * Two JavaScript-level lines without any stack frame are workerd's own doing, not the code's, and
 * are counted apart (with the inspector attached workerd raises them to the JavaScript level;
 * without it they appear at the I/O level only):
 * - `Uncaught (in response)`, `Error: Network connection lost.`: a response could not be written
 *   to a client that already left (an aborted long poll, a WebSocket closed before its 101);
 * - `Uncaught (async)`, `TypeError: Can't read from request stream after response has been sent.`:
 *   the server answered a request without reading its body (a 400 to a bad POST, a 413), and
 *   workerd's forwarding of that body from the Worker to the Durable Object failed afterwards.
 *   A Durable Object that answers every POST with 400 straight away gets the same line; reading
 *   the whole body first is the only way around it (cancelling the body is not).
 * A line with stack frames is always an uncaught exception.
 *
 * @module
 */

const KEPT = 50;
const UNCAUGHT = /uncaught exception; source = ([^;]*); stack = (.*)$/;
const LOST_RESPONSE = "Uncaught (in response)|Error: Network connection lost.";
const UNREAD_BODY = "Uncaught (async)|TypeError: Can't read from request stream after response has been sent.";

/** What the log said so far. */
export interface WorkerdLog {
  /** Uncaught exceptions (at most 50 kept), each with its stack lines. */
  uncaught: string[];
  /** How many uncaught exceptions there were in all. */
  uncaughtCount: number;
  /** Responses workerd could not write because the client had left. */
  lostResponses: number;
  /** Request bodies workerd could not forward because the server had answered without reading them. */
  unreadBodies: number;
}

/** Feeds workerd's output in as it comes; `log()` tells what it said so far. */
export function workerdLogReader(): { feed(chunk: string): void; log(): WorkerdLog } {
  const log: WorkerdLog = { uncaught: [], uncaughtCount: 0, lostResponses: 0, unreadBodies: 0 };
  let partial = "";
  // The exception being read: its line, its kind, and the stack frames seen after it.
  let current: { text: string; kind: string; frames: number } | undefined;
  const settle = () => {
    if (!current) return;
    const { text, kind, frames } = current;
    current = undefined;
    if (frames === 0 && kind === LOST_RESPONSE) log.lostResponses++;
    else if (frames === 0 && kind === UNREAD_BODY) log.unreadBodies++;
    else {
      log.uncaughtCount++;
      if (log.uncaught.length < KEPT) log.uncaught.push(text);
    }
  };
  return {
    feed(chunk) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        const match = UNCAUGHT.exec(line);
        if (current && !match && /^\s+at /.test(line)) {
          current.frames++;
          if (current.frames <= 10) current.text += `\n${line.slice(0, 300)}`;
          continue;
        }
        settle();
        if (match) {
          current = {
            text: line.slice(line.indexOf("uncaught exception"), 1000),
            kind: `${match[1]}|${match[2].trim()}`,
            frames: 0,
          };
        }
      }
    },
    log() {
      settle();
      return { ...log, uncaught: [...log.uncaught] };
    },
  };
}
