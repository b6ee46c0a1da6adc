/**
 * The heartbeat of a Durable Object's hibernatable WebSocket sessions, as a schedule the object
 * drives: it has no timers of its own (a pending timer would keep the object awake). The object
 * calls {@linkcode ObjectHeartbeat.ping} whenever it handles anything, and both
 * {@linkcode ObjectHeartbeat.ping} and {@linkcode ObjectHeartbeat.check} from its alarm, set to
 * {@linkcode ObjectHeartbeat.nextAt}. So a busy object, whose alarm runs late, still pings on time.
 *
 * - Pings: each session has its own due time (pingInterval after its handshake, then after each
 *   ping); a round pings every session due within `min(pingInterval, pingTimeout) / 2`, so
 *   sessions that joined at different times share rounds, and none is pinged sooner than that
 *   after its handshake.
 * - Pongs: a session that has not answered pingTimeout after its ping is closed, unless it is
 *   busy: workerd hands a WebSocket's frames to the object one at a time, so a pong can wait
 *   behind the client's own burst; every frame that arrives counts as a sign of life and moves the
 *   deadline. A session found without a pong gets one last look, as late again as the check ran
 *   (at least 1 ms, at most pingTimeout): frames that reached the platform while the object was
 *   busy are handed over first. A session that sends nothing is closed then.
 * - Engine.IO v3 sessions (`clientPings`): the client pings, the engine answers; one that has not
 *   pinged for pingInterval + pingTimeout is closed, after the same last look.
 *
 * Times are `Date.now()` milliseconds.
 *
 * @module
 */

/** What the heartbeat does to one session. */
export interface HeartbeatPeer {
  /** Sends a ping (`2`). */
  ping(): void;
  /** Closes the session: no pong in time. */
  timedOut(): void;
  /** When the platform last answered a pong for it without waking the object (0: never). */
  autoPongAt?(): number;
}

/**
 * One session's place in an {@linkcode ObjectHeartbeat}.
 *
 * @example
 * ```ts
 * import { HeartbeatMember } from "./durable_object_heartbeat.ts";
 * const member = new HeartbeatMember({ ping() {}, timedOut() {} }, Date.now() + 25_000);
 * ```
 */
export class HeartbeatMember {
  /** What the heartbeat does to the session. */
  readonly peer: HeartbeatPeer;
  /** Engine.IO v3: the client pings, and is never pinged. */
  readonly clientPings: boolean;
  /** When its next ping is due. */
  dueAt: number;
  /** When its oldest unanswered ping went out (0: none); v3: since when a ping of its is awaited. */
  awaiting = 0;
  /** When its last frame of any kind arrived (0: none). */
  heardAt = 0;
  /** When a missing pong is judged, after one last look (0: not missing). */
  lookAt = 0;

  /** A session whose first ping is due at `dueAt` (`clientPings`: a v3 session, never pinged). */
  constructor(peer: HeartbeatPeer, dueAt: number, clientPings = false) {
    this.peer = peer;
    this.clientPings = clientPings;
    this.dueAt = clientPings ? Infinity : dueAt;
  }
}

/**
 * The pings and pong checks of many sessions on one object.
 *
 * @example
 * ```ts
 * import { HeartbeatMember, ObjectHeartbeat } from "./durable_object_heartbeat.ts";
 * const heartbeat = new ObjectHeartbeat({ pingInterval: 25_000, pingTimeout: 20_000 });
 * const now = Date.now();
 * const member = new HeartbeatMember({ ping: () => console.log("2"), timedOut() {} }, now + 25_000);
 * heartbeat.join(member, now);
 * heartbeat.ping(now + 25_000); // logs "2"
 * heartbeat.heard(member, now + 25_010, true); // its pong
 * heartbeat.check(now + 45_000); // nothing to close
 * ```
 */
export class ObjectHeartbeat {
  readonly #interval: number;
  readonly #timeout: number;
  /** How early a ping may go out to share a round. */
  readonly #window: number;
  #members: Set<HeartbeatMember> = new Set();
  /** No ping is due before this (a lower bound: members that left may have set it). */
  #nextPing = Infinity;
  /** No pong is due before this (likewise). */
  #nextCheck = Infinity;

  /** A heartbeat with the engine's `pingInterval` and `pingTimeout`. */
  constructor(options: { pingInterval: number; pingTimeout: number }) {
    this.#interval = options.pingInterval;
    this.#timeout = options.pingTimeout;
    this.#window = Math.min(options.pingInterval, options.pingTimeout) / 2;
  }

  /** How many sessions it beats for. */
  get size(): number {
    return this.#members.size;
  }

  /** When something is due next (`Infinity`: no session). */
  get nextAt(): number {
    return this.#members.size === 0 ? Infinity : Math.min(this.#nextPing, this.#nextCheck);
  }

  /** Adds a session at `now`; one due already (an upgrade after pingInterval) is pinged at once. */
  join(member: HeartbeatMember, now: number): void {
    this.#members.add(member);
    if (member.clientPings) {
      member.awaiting = now;
      this.#nextCheck = Math.min(this.#nextCheck, now + this.#interval + this.#timeout);
    } else if (member.dueAt <= now) this.#ping(member, now);
    if (member.dueAt < this.#nextPing) this.#nextPing = member.dueAt;
  }

  /** Removes a session. */
  leave(member: HeartbeatMember): void {
    this.#members.delete(member);
  }

  /** A frame of `member` arrived at `now` (`answer`: a pong; v3, a ping of the client's). */
  heard(member: HeartbeatMember, now: number, answer: boolean): void {
    member.heardAt = now;
    if (answer) {
      member.awaiting = member.clientPings ? now : 0;
      member.lookAt = 0;
    }
  }

  /** Sends the pings due at `now`; whether a round went out (the next check may have moved). */
  ping(now: number): boolean {
    if (now < this.#nextPing) return false;
    let next = Infinity;
    for (const member of this.#members) {
      if (member.dueAt - now <= this.#window) this.#ping(member, now);
      if (member.dueAt < next) next = member.dueAt;
    }
    this.#nextPing = next;
    return true;
  }

  #ping(member: HeartbeatMember, now: number): void {
    try {
      member.peer.ping();
    } catch { /* closing */ }
    member.dueAt = now + this.#interval;
    if (member.awaiting === 0) {
      member.awaiting = now;
      if (now + this.#timeout < this.#nextCheck) this.#nextCheck = now + this.#timeout;
    }
  }

  /** Closes the sessions whose pong is missing at `now` (after their last look). */
  check(now: number): void {
    if (now < this.#nextCheck) return;
    const late = now - this.#nextCheck;
    let next = Infinity;
    for (const member of this.#members) {
      if (member.awaiting === 0) continue;
      const auto = member.clientPings ? 0 : member.peer.autoPongAt?.() ?? 0;
      if (auto >= member.awaiting) {
        this.heard(member, auto, true);
        continue;
      }
      const deadline = member.clientPings
        ? member.awaiting + this.#interval + this.#timeout
        : Math.max(member.awaiting, member.heardAt) + this.#timeout;
      if (now < deadline) {
        member.lookAt = 0;
        if (deadline < next) next = deadline;
        continue;
      }
      if (member.lookAt === 0) member.lookAt = now + Math.min(this.#timeout, Math.max(1, late));
      if (now < member.lookAt) {
        if (member.lookAt < next) next = member.lookAt;
        continue;
      }
      this.#members.delete(member);
      try {
        member.peer.timedOut();
      } catch (err) {
        console.error("socket.io: error closing a session on ping timeout", err);
      }
    }
    this.#nextCheck = next;
  }
}
