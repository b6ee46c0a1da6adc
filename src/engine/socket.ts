/**
 * An Engine.IO session: its transport (and the one it upgrades to), the write buffer, the heartbeat
 * and the close path. The io layer sees it as `socket.conn`.
 *
 * @module
 */

import type { EnginePacket } from "../parser/engine_io.ts";
import { Emitter } from "../util/emitter.ts";
import type { ResolvedEngineOptions } from "./options.ts";
import { DeadlineEntry, DeadlineQueue } from "./deadline_queue.ts";
import type { Transport, TransportEvents } from "./transports/transport.ts";
import { WebSocketTransport } from "./transports/websocket.ts";
import type { WebSocketLike } from "./websocket_like.ts";
import type {
  EngineCloseReason,
  EngineReadyState,
  EngineSocketEvents,
  HandshakeRequest,
  ObservedPacket,
  WriteOptions,
} from "./types.ts";
import { createDebug } from "../util/debug.ts";
import { emitIsolated } from "../util/emit_isolated.ts";
import { receivedBinary } from "../util/platform.ts";
import type { EngineProtocol } from "./protocol_v3.ts";
import { SessionRequest } from "./session_request.ts";

const debug = createDebug("sio:engine");

/** The options of a packet written with `compress: false` (one shared object). */
const UNCOMPRESSED: { compress?: boolean } = Object.freeze({ compress: false });

/** No packets waiting: the buffer of a session with none (never written to). */
const NO_PACKETS: EnginePacket[] = Object.freeze([]) as unknown as EnginePacket[];

// Turns of the event loop in which a volatile packet went out, counted only while there are
// such packets (see `EngineSocket.takesVolatile`): one microtask per turn that has one.
let volatileTurn = 0;
let turnEnding = false;

function currentTurn(): number {
  if (!turnEnding) {
    turnEnding = true;
    queueMicrotask(endTurn);
  }
  return volatileTurn;
}

function endTurn(): void {
  volatileTurn++;
  turnEnding = false;
}

/**
 * One client session of the engine.
 *
 * @example
 * ```ts
 * import { Engine } from "./server.ts";
 * const engine = new Engine();
 * engine.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.write(data)); // echo
 *   socket.on("close", (reason) => console.log("closed:", reason));
 * });
 * ```
 */
export class EngineSocket extends Emitter<EngineSocketEvents> {
  /** The session id (`sid`). */
  readonly id: string;
  /** The request that opened the session. */
  readonly request: HandshakeRequest;
  /**
   * The Engine.IO protocol revision: 4, or 3 for socket.io 1.x/2.x clients (`allowEIO3`: the
   * client pings, the server answers).
   */
  readonly protocol: EngineProtocol;
  /** See {@linkcode EngineSocket.nativeRequest}: what the engine kept, or `NODE_SHAPED`. */
  #nativeRequest: unknown = undefined;

  /**
   * socket.io's `socket.request` where the runtime's requests are Node's: the `IncomingMessage`
   * that opened the session when engine middlewares ran on it (with what they set: `session`,
   * `user`...), otherwise (it is not kept: 1.25 KB per idle connection) a plain object made on
   * first use with its `url`, `method`, `headers`, `socket` / `connection` (`remoteAddress`,
   * `encrypted`) and engine.io's `_query`. `undefined` on web runtimes, whose requests are web
   * `Request`s (see {@linkcode EngineSocket.request}).
   */
  get nativeRequest(): object | undefined {
    const kept = this.#nativeRequest;
    if (kept === NODE_SHAPED) return (this.#nativeRequest = nodeShapedRequest(this.request));
    return kept as object | undefined;
  }
  /** @internal Set by the engine when the session opens. */
  set nativeRequest(value: unknown) {
    this.#nativeRequest = value;
  }
  /** The session's state. */
  readyState: EngineReadyState = "opening";
  /** Whether the session moved from polling to WebSocket. */
  upgraded = false;
  #options: ResolvedEngineOptions;
  #transport: Transport;
  /** Packets waiting for the flush: a shared empty array while there are none (idle sessions). */
  #buffer: EnginePacket[] = NO_PACKETS;
  #bufferedBytes = 0;
  /** The WebSocket transport while it is the session's and no upgrade runs: writes go straight out. */
  #direct: WebSocketTransport | null = null;
  #sinceCheck = 0;
  #flushScheduled = false;
  /** The session's place in one of its engine's heartbeat queues (ping, pong or last look). */
  #beat: DeadlineEntry<EngineSocket> = new DeadlineEntry<EngineSocket>(this);
  /** Whether the peer sent anything since the last ping: it is alive, its pong may be behind. */
  #heard = false;
  /** What the current ping's pong deadline already gave: 0 nothing, 1 the extension, 2 the last look. */
  #pongGrace = 0;
  #externalHeartbeat = false;
  #upgrade: {
    transport: Transport;
    timer: ReturnType<typeof setTimeout>;
    probed: boolean;
  } | null = null;
  /**
   * Whether anyone listens to a per-packet event (`packet`, `packetCreate`, `flush`, `drain`): set
   * by the first such listener, so that the paths every message takes skip them otherwise.
   */
  #observed = false;
  /**
   * The engine's and the layer above's hooks (the io server's client): told of the session's
   * messages and its close before its listeners are, without a listener table of their own (some
   * 100 bytes per idle connection).
   */
  #closedHook: ((this: EngineSocket, reason: EngineCloseReason, description?: unknown) => void) | null = null;
  #consumer: SessionConsumer | null = null;

  /** Creates a session on `transport`; {@linkcode EngineSocket.open} starts it. */
  constructor(
    id: string,
    request: HandshakeRequest,
    transport: Transport,
    options: ResolvedEngineOptions,
    protocol: EngineProtocol = 4,
  ) {
    super();
    this.id = id;
    this.protocol = protocol;
    this.request = request;
    this.#options = options;
    this.#transport = transport;
    this.#bind(transport);
  }

  /** Adds a listener (the per-packet events are only emitted once one has a listener). */
  override on<E extends keyof EngineSocketEvents & string>(event: E, listener: EngineSocketEvents[E]): this {
    if (event === "packet" || event === "packetCreate" || event === "flush" || event === "drain") {
      this.#observed = true;
    }
    return super.on(event, listener);
  }

  /** @internal The engine's clean-up, called first when the session closes (set once, by the engine). */
  _onClosed(hook: (this: EngineSocket, reason: EngineCloseReason, description?: unknown) => void): void {
    this.#closedHook = hook;
  }

  /**
   * @internal Hands the session's messages and its close to `consumer` (before its listeners), or
   * stops handing them (`null`).
   */
  _consume(consumer: SessionConsumer | null): void {
    this.#consumer = consumer;
  }

  /** @internal Who {@linkcode EngineSocket._consume}s the session. */
  get _consumer(): SessionConsumer | null {
    return this.#consumer;
  }

  /** The current transport's name. */
  get transportName(): "polling" | "websocket" {
    return this.#transport.name;
  }

  /** The current transport (internal). */
  get transport(): Transport {
    return this.#transport;
  }

  /** Whether a write would go out now: open, no upgrade under way, the transport writable. */
  get writable(): boolean {
    return this.readyState === "open" && this.#transport.writable && this.#upgrade === null;
  }

  /** The turn of the event loop in which this session's last volatile packet went out. */
  #volatileTurn = -1;

  /**
   * Whether a volatile packet may go out now (and counts it if so), as socket.io decides: only
   * when the transport could take it at once, so not while no poll waits, an upgrade is under
   * way, packets wait to be flushed or bytes are queued in the WebSocket, nor after another
   * volatile packet in the same turn of the event loop (socket.io's WebSocket transport is not
   * writable until the previous send is done).
   */
  takesVolatile(): boolean {
    if (!this.writable || this.#buffer.length > 0 || this.#transport.bufferedAmount > 0) return false;
    const turn = currentTurn();
    if (this.#volatileTurn === turn) return false;
    this.#volatileTurn = turn;
    return true;
  }

  /** Whether an upgrade is under way. */
  get upgrading(): boolean {
    return this.#upgrade !== null;
  }

  /**
   * The WebSocket the session writes to: its transport's, when that is a WebSocket (a runtime
   * finds its own socket's session by it); `undefined` on polling, also while an upgrade from
   * polling is under way.
   */
  get webSocket(): WebSocketLike | undefined {
    return this.#upgrade === null ? this.#direct?.socket : undefined;
  }

  /**
   * Native fan-out: subscribes the session to the runtime's `topic` when it can take a published
   * frame now (a v4 WebSocket of a runtime that offers topics, open, writable, no upgrade under
   * way). What it has buffered goes out first, so a frame published next arrives after it. False:
   * the session cannot be reached through the topic now; write to it.
   */
  subscribe(topic: string): boolean {
    const direct = this.#direct;
    // A published frame passes neither the per-packet events nor a wrapped `write` (the Admin UI's
    // instrumentation counts bytes there): a session someone watches takes the per-socket path.
    // One subscribed before it was watched leaves the topic, so that the publish misses it.
    if (this.#observed || this.write !== EngineSocket.prototype.write) {
      direct?.unsubscribe(topic);
      return false;
    }
    if (direct === null || !this.writable || !direct.subscribe(topic)) return false;
    if (this.#buffer.length > 0) this.#flush();
    return true;
  }

  /**
   * Native fan-out: unsubscribes the session from `topic` (nothing if it was not subscribed); true
   * when it was subscribed.
   */
  unsubscribe(topic: string): boolean {
    return this.#direct?.unsubscribe(topic) === true;
  }

  /** Native fan-out: whether the session is subscribed to `topic` now. */
  isSubscribed(topic: string): boolean {
    return this.#direct?.isSubscribed(topic) === true;
  }

  /**
   * Native fan-out: subscribes the session to `topic` again right after an
   * {@linkcode EngineSocket.unsubscribe} that took it out for one publish (no check, no flush: it
   * was subscribed a moment ago).
   */
  resubscribe(topic: string): void {
    this.#direct?.subscribe(topic);
  }

  /** Whether the upgrade probe was answered (internal: polling GETs are then answered at once). */
  get probed(): boolean {
    return this.#upgrade?.probed === true;
  }

  /** Sends the open packet (and the initial packet) and starts the heartbeat. */
  open(): void {
    this.readyState = "open";
    const o = this.#options;
    const canUpgrade = this.#transport.name === "polling" && o.allowUpgrades &&
      o.transports.includes("websocket");
    const handshake = {
      sid: this.id,
      upgrades: canUpgrade ? ["websocket"] : [],
      pingInterval: o.pingInterval,
      pingTimeout: o.pingTimeout,
      maxPayload: this.protocol === 3 ? undefined : o.maxHttpBufferSize, // not in v3's
    };
    this.#sendPacket({ type: "open", data: JSON.stringify(handshake) });
    if (o.initialPacket !== undefined) this.#sendPacket({ type: "message", data: o.initialPacket });
    this.#schedulePing();
  }

  /**
   * Opens a session restored from a snapshot (`Engine.restoreSession`): its client had the open
   * packet long ago. Where the session stood in its heartbeat is not known: a v4 session is
   * pinged at once (never too late for its client), a v3 one waits for its client's next ping.
   * With `externalHeartbeat` the runtime takes the heartbeat (see
   * {@linkcode EngineSocket.useExternalHeartbeat}).
   */
  resume(upgraded: boolean, externalHeartbeat: boolean): void {
    if (this.readyState !== "opening") return;
    this.readyState = "open";
    this.upgraded = upgraded;
    if (externalHeartbeat) this.useExternalHeartbeat();
    else if (this.protocol === 3) this.#schedulePing();
    else EngineSocket.#heartbeatsOf(this.#options).ping.add(this.#beat, performance.now());
  }

  /**
   * Hands the heartbeat to the runtime, which then sends the pings and watches the pongs itself
   * (a Workers Durable Object that hibernates: pings from an alarm, pongs answered by the
   * platform). The session's own ping and pong timers stop for good.
   */
  useExternalHeartbeat(): void {
    this.#externalHeartbeat = true;
    this.#beat.queue?.remove(this.#beat);
  }

  /** The external heartbeat saw no pong in time: closes the session with `ping timeout`. */
  heartbeatTimedOut(): void {
    this.#onClose("ping timeout");
  }

  /**
   * Sends one message (text or binary). Writes in the same tick go out together. With
   * `options.compress === false` it is never compressed (neither in a polling answer, which is then
   * compressed only for its other messages, nor by permessage-deflate).
   */
  write(data: string | Uint8Array, options?: WriteOptions): void {
    if (this.#observed) {
      this.#observedWrite(data, options);
      return;
    }
    const direct = this.#direct;
    const compress = options?.compress;
    if (direct !== null && this.#buffer.length === 0 && this.readyState === "open") {
      // A WebSocket with nothing waiting: one frame per packet anyway, so send it now.
      direct.sendFrame(
        typeof data === "string" ? "4" + data : direct.v3 === undefined ? data : direct.v3BinaryFrame(data),
        compress,
      );
      this.#checkQueued(direct);
      return;
    }
    if (this.readyState !== "open" && this.readyState !== "opening") return;
    this.#queue(compress === false ? { type: "message", data, options: UNCOMPRESSED } : { type: "message", data });
  }

  /** {@linkcode EngineSocket.write} with observers: the same paths, telling them each step. */
  #observedWrite(data: string | Uint8Array, options: WriteOptions | undefined): void {
    if (this.readyState !== "open" && this.readyState !== "opening") return;
    const compress = options?.compress;
    const packet: ObservedPacket = { type: "message", data, options: { compress: compress !== false } };
    emitIsolated(this, "packetCreate", listenerFailed, packet);
    const direct = this.#direct;
    if (direct !== null && this.#buffer.length === 0 && this.readyState === "open") {
      emitIsolated(this, "flush", listenerFailed, [packet]);
      direct.sendFrame(
        typeof data === "string" ? "4" + data : direct.v3 === undefined ? data : direct.v3BinaryFrame(data),
        compress,
      );
      this.#checkQueued(direct);
      if (this.readyState === "open") emitIsolated(this, "drain", listenerFailed);
      return;
    }
    if (this.readyState !== "open" && this.readyState !== "opening") return;
    this.#queue(packet);
  }

  /** Buffers a message until the end of the tick (or the next poll). */
  #queue(packet: EnginePacket): void {
    if (this.#buffer === NO_PACKETS) this.#buffer = [packet];
    else this.#buffer.push(packet);
    const data = packet.data!;
    this.#bufferedBytes += typeof data === "string" ? data.length : data.byteLength;
    if (this.#bufferedBytes > this.#options.maxBufferedBytes) {
      // A client that does not read: drop it rather than grow without bound.
      this.#onClose("transport full", `more than ${this.#options.maxBufferedBytes} bytes waiting`);
      return;
    }
    this.#scheduleFlush();
  }

  /** Every 64 direct writes: a client whose WebSocket queues too much is dropped. */
  #checkQueued(direct: WebSocketTransport): void {
    if (++this.#sinceCheck < 64) return;
    this.#sinceCheck = 0;
    const queued = direct.bufferedAmount;
    if (queued > this.#options.maxBufferedBytes) {
      this.#onClose("transport full", `${queued} bytes queued in the WebSocket`);
    }
  }

  /** Alias of {@linkcode EngineSocket.write}. */
  send(data: string | Uint8Array, options?: WriteOptions): void {
    this.write(data, options);
  }

  /**
   * Closes the session from the server side, after what is buffered has been sent.
   */
  close(): void {
    if (this.readyState !== "open" && this.readyState !== "opening") return;
    this.readyState = "closing";
    const closeTransport = () => {
      this.#transport.close(() => this.#onClose("forced close"), "forced close");
    };
    if (this.#buffer.length > 0 && !this.#transport.writable) {
      this.once("drain", closeTransport);
    } else {
      this.#flush();
      closeTransport();
    }
  }

  /**
   * Closes the session at once, without waiting for the client to collect what is buffered (a
   * waiting poll still receives a close packet).
   */
  terminate(reason: EngineCloseReason = "forced close"): void {
    this.#onClose(reason);
  }

  /** Starts an upgrade to `transport` (a WebSocket opened with this sid). */
  startUpgrade(transport: Transport): void {
    const timer = setTimeout(() => {
      this.#cancelUpgrade();
      transport.close();
    }, this.#options.upgradeTimeout);
    this.#upgrade = { transport, timer, probed: false };
    transport.events = {
      onPacket: (packet) => this.#onUpgradePacket(transport, packet),
      onError: () => this.#cancelUpgrade(),
      onClose: () => this.#cancelUpgrade(),
      onDrain: () => {},
    };
  }

  #onUpgradePacket(transport: Transport, packet: EnginePacket): void {
    const upgrade = this.#upgrade;
    if (upgrade === null || upgrade.transport !== transport) return;
    if (packet.type === "ping" && packet.data === "probe") {
      transport.send([{ type: "pong", data: "probe" }]);
      upgrade.probed = true;
      emitIsolated(this, "upgrading", listenerFailed, transport);
      // End the pending poll so the client can complete the upgrade.
      if (this.#transport.writable) this.#releasePoll();
      return;
    }
    if (packet.type === "upgrade" && upgrade.probed && this.readyState !== "closed") {
      clearTimeout(upgrade.timer);
      this.#upgrade = null;
      const previous = this.#transport;
      previous.discard();
      previous.events = { onPacket() {}, onError() {}, onClose() {}, onDrain() {} };
      this.#transport = transport;
      this.#bind(transport);
      this.upgraded = true;
      debug("session %s upgraded to %s", this.id, transport.name);
      emitIsolated(this, "upgrade", listenerFailed, transport);
      this.#flush();
      if (this.readyState === "closing") transport.close(() => this.#onClose("forced close"), "forced close");
      return;
    }
    this.#cancelUpgrade();
    transport.close();
  }

  #cancelUpgrade(): void {
    const upgrade = this.#upgrade;
    if (upgrade === null) return;
    clearTimeout(upgrade.timer);
    this.#upgrade = null;
    this.#flush();
  }

  /** What the session's transport reports: one object per session, methods on the prototype. */
  static #Events = class SessionTransportEvents implements TransportEvents {
    readonly #session: EngineSocket;
    constructor(session: EngineSocket) {
      this.#session = session;
    }
    onPacket(packet: EnginePacket): void {
      this.#session.#onPacket(packet);
    }
    onError(reason: "transport error" | "parse error", description: string): void {
      this.#session.#failed(reason, description);
    }
    onClose(): void {
      this.#session.#onClose("transport close");
    }
    onDrain(): void {
      const session = this.#session;
      // A poll during the upgrade ends at once, so the client can finish upgrading.
      if (session.probed) session.#releasePoll();
      else session.#flush();
    }
  };
  #events: TransportEvents | undefined;

  #bind(transport: Transport): void {
    this.#direct = transport instanceof WebSocketTransport ? transport : null;
    transport.events = this.#events ??= new EngineSocket.#Events(this);
  }

  #onPacket(packet: EnginePacket): void {
    if (this.readyState !== "open" && this.readyState !== "closing") return;
    this.#heard = true;
    // Node: binary as a Buffer, as socket.io delivers it (the same memory).
    if (receivedBinary !== undefined && typeof packet.data === "object") packet.data = receivedBinary(packet.data);
    if (this.#observed) emitIsolated(this, "packet", listenerFailed, packet);
    switch (packet.type) {
      case "message": {
        const data = packet.data ?? "";
        const consumer = this.#consumer;
        if (consumer !== null) {
          try {
            consumer._ondata(data);
          } catch (err) {
            listenerFailed.call(this, err, "message");
          }
        }
        if (this.hasListeners("message")) emitIsolated(this, "message", listenerFailed, data);
        return;
      }
      case "pong":
      case "ping":
        // v4: only the server pings (the upgrade probe goes through the other transport); v3: only
        // the client does, and the server answers.
        if ((packet.type === "ping") !== (this.protocol === 3)) {
          this.#failed("transport error", "invalid heartbeat direction");
          return;
        }
        if (this.protocol === 3) this.#sendPacket({ type: "pong" });
        this.#schedulePing();
        emitIsolated(this, "heartbeat", listenerFailed);
        return;
      case "close":
        this.#onClose("transport close");
        return;
      default:
        return;
    }
  }

  /**
   * Ends a poll while the upgrade completes, so the client can finish it: with what is buffered
   * (a ping that came due meanwhile, say), else with the ping if it is due (its timer may not have
   * run yet: a busy host's timers run late), else with a no-op. Held back, a ping would wait for
   * the upgrade to complete, which under load takes hundreds of ms while the client counts.
   */
  #releasePoll(): void {
    if (this.#buffer.length > 0) {
      const packets = this.#buffer;
      this.#buffer = NO_PACKETS;
      this.#bufferedBytes = 0;
      this.#release(packets);
      return;
    }
    const heartbeats = EngineSocket.#heartbeatsOf(this.#options);
    const beat = this.#beat;
    if (beat.queue === heartbeats.ping && beat.at <= performance.now()) {
      const ping: ObservedPacket = { type: "ping" };
      if (this.#observed) {
        ping.options = { compress: true };
        emitIsolated(this, "packetCreate", listenerFailed, ping);
      }
      this.#release([ping]);
      this.#pinged();
      return;
    }
    this.#transport.send([{ type: "noop" }]);
  }

  /** Hands `packets` to the transport at once, telling the `flush` and `drain` listeners if any. */
  #release(packets: ObservedPacket[]): void {
    if (this.#observed) emitIsolated(this, "flush", listenerFailed, packets);
    this.#transport.send(packets);
    if (this.#observed) emitIsolated(this, "drain", listenerFailed);
  }

  /**
   * The next ping is due one interval from now (a pong, or any reschedule, moves it). v3: the
   * client's next ping is due within an interval and a timeout.
   */
  #schedulePing(): void {
    if (this.#externalHeartbeat) return;
    this.#pongGrace = 0;
    const o = this.#options;
    const queues = EngineSocket.#heartbeatsOf(o);
    if (this.protocol === 3) queues.pong.add(this.#beat, performance.now() + o.pingInterval + o.pingTimeout);
    else queues.ping.add(this.#beat, performance.now() + o.pingInterval);
  }

  /**
   * A ping is due: it goes out, and the pong is due one timeout after it went out. Not after it
   * was due: when the event loop was held up past the ping's time, that deadline would already
   * have passed, and the session would die before its pong could arrive.
   */
  static #pingDue(session: EngineSocket): void {
    session.#sendPacket({ type: "ping" });
    session.#pinged();
  }

  /** A ping went out: its pong is due pingTimeout from now. */
  #pinged(): void {
    this.#heard = false;
    this.#pongGrace = 0;
    EngineSocket.#heartbeatsOf(this.#options).pong.add(this.#beat, performance.now() + this.#options.pingTimeout);
  }

  /** Runs the heartbeat deadlines of `options`' engine that are due now (see {@linkcode Engine.runDueHeartbeats}). */
  static runDueHeartbeats(options: ResolvedEngineOptions): void {
    const queues = EngineSocket.#queues.get(options);
    if (queues === undefined) return;
    queues.ping.runDue();
    queues.pong.runDue();
    queues.look.runDue();
  }

  /** Each engine's heartbeat queues (its sessions share one options object). */
  static #queues = new WeakMap<ResolvedEngineOptions, Heartbeats>();

  static #heartbeatsOf(options: ResolvedEngineOptions): Heartbeats {
    let queues = EngineSocket.#queues.get(options);
    if (queues === undefined) {
      queues = {
        ping: new DeadlineQueue(EngineSocket.#pingDue),
        pong: new DeadlineQueue(EngineSocket.#pongMissed),
        look: new DeadlineQueue(EngineSocket.#pongMissed),
        lookAt: 0,
      };
      EngineSocket.#queues.set(options, queues);
    }
    return queues;
  }

  /**
   * No pong by the deadline. A busy-but-alive peer is not dropped for it, a dead one still is:
   * - a peer heard from since the ping (a message, say, that its pong is queued behind) gets
   *   pingTimeout more, once per ping, as the reference server does (v4: a v3 client's own ping
   *   is what it owes);
   * - then one last look, as late again as the deadline came due (at least 1 ms, at most
   *   pingTimeout): a deadline that comes due while the event loop is busy is seen before the
   *   sockets are read again (Node runs its timers before its I/O; Deno reads them only when its
   *   loop idles), so a pong that arrived meanwhile sits unread. The client gets back the time the
   *   server did not listen.
   * A peer that sent nothing is closed then.
   */
  static #pongMissed(session: EngineSocket, at: number): void {
    if (session.readyState === "closed") return;
    const queues = EngineSocket.#heartbeatsOf(session.#options);
    const { pingTimeout } = session.#options;
    const now = performance.now();
    if (session.#pongGrace === 0 && session.#heard && session.protocol !== 3) {
      session.#pongGrace = 1;
      queues.pong.add(session.#beat, now + pingTimeout);
      return;
    }
    if (session.#pongGrace < 2) {
      session.#pongGrace = 2;
      // Never earlier than a look already queued: the queue then only grows at its tail.
      queues.lookAt = Math.max(queues.lookAt, now + Math.min(pingTimeout, Math.max(1, now - at)));
      queues.look.add(session.#beat, queues.lookAt);
      return;
    }
    session.#onClose("ping timeout");
  }

  #sendPacket(packet: ObservedPacket): void {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    if (this.#observed) {
      packet.options = { compress: true };
      emitIsolated(this, "packetCreate", listenerFailed, packet);
    }
    if (this.#buffer === NO_PACKETS) this.#buffer = [packet];
    else this.#buffer.push(packet);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.readyState === "closed" || this.#buffer.length === 0) return;
    if (!this.#transport.writable) return;
    if (this.#upgrade !== null && this.#upgrade.probed) return;
    const packets = this.#buffer;
    this.#buffer = NO_PACKETS;
    this.#bufferedBytes = 0;
    if (this.#observed) emitIsolated(this, "flush", listenerFailed, packets);
    this.#transport.send(packets);
    const queued = this.#transport.bufferedAmount;
    if (queued > this.#options.maxBufferedBytes) {
      this.#onClose("transport full", `${queued} bytes queued in the WebSocket`);
      return;
    }
    if (this.#observed) emitIsolated(this, "drain", listenerFailed);
  }

  /** The transport failed: `error` (to those who listen), then the close. */
  #failed(reason: "transport error" | "parse error", description: string): void {
    if (this.readyState !== "closed" && this.hasListeners("error")) {
      emitIsolated(this, "error", listenerFailed, new Error(`${reason}: ${description}`));
    }
    this.#onClose(reason, description);
  }

  #onClose(reason: EngineCloseReason, description?: unknown): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.#direct = null;
    this.#beat.queue?.remove(this.#beat);
    if (this.#upgrade !== null) {
      clearTimeout(this.#upgrade.timer);
      this.#upgrade.transport.close();
      this.#upgrade = null;
    }
    this.#buffer = NO_PACKETS;
    this.#bufferedBytes = 0;
    // Let a waiting poll know (it receives a close packet) and release the WebSocket, whose close
    // frame tells why (a client's `close` event reads "ping timeout", "forced close"...).
    if (this.#transport.writable) this.#transport.close(undefined, reason);
    else this.#transport.discard(reason);
    // Every clean-up runs, even after one throws: the engine's, the server's and the host's hang on
    // this (a throw must not skip the rest: the session would leak).
    const hook = this.#closedHook;
    if (hook !== null) {
      try {
        hook.call(this, reason, description);
      } catch (err) {
        listenerFailed.call(this, err, "close");
      }
    }
    const consumer = this.#consumer;
    if (consumer !== null) {
      this.#consumer = null;
      try {
        consumer._onclose(reason, description);
      } catch (err) {
        listenerFailed.call(this, err, "close");
      }
    }
    emitIsolated(this, "close", listenerFailed, reason, description);
    this.off();
  }
}

/**
 * @internal What takes a session's messages and its close ahead of its listeners: the io server's
 * client of the session.
 *
 * @example
 * ```ts
 * import type { SessionConsumer } from "./socket.ts";
 * const consumer: SessionConsumer = { _ondata: (data) => console.log(data), _onclose: (reason) => console.log(reason) };
 * ```
 */
export interface SessionConsumer {
  /** One message. */
  _ondata(data: string | Uint8Array): void;
  /** The session closed. */
  _onclose(reason: EngineCloseReason, description?: unknown): void;
}

/** A session's mark: its request was Node's, to be described from the handshake when asked. */
export const NODE_SHAPED: unique symbol = Symbol("sio.nodeShapedRequest");

/** Node's `IncomingMessage` as far as the handshake tells it (see `EngineSocket.nativeRequest`). */
function nodeShapedRequest(request: HandshakeRequest): object {
  const session = request instanceof SessionRequest ? request : undefined;
  const url = session ? session.pathAndQuery : request.url.pathname + request.url.search;
  const headers = session ? session.headerRecord : Object.fromEntries(request.headers);
  const socket = { remoteAddress: request.remoteAddress, encrypted: request.secure };
  const query = new URLSearchParams(session ? session.search : request.url.search);
  return { url, method: request.method, headers, socket, connection: socket, _query: Object.fromEntries(query) };
}

/** An engine's heartbeat queues: pings due, pongs due, and pongs given one last look. */
interface Heartbeats {
  ping: DeadlineQueue<EngineSocket>;
  pong: DeadlineQueue<EngineSocket>;
  look: DeadlineQueue<EngineSocket>;
  /** When the last look queued is due. */
  lookAt: number;
}

/**
 * A listener of a session threw: logged, never thrown into the transport or the runtime's event
 * handler (an uncaught error there ends a Deno or Node process).
 */
function listenerFailed(this: EngineSocket, err: unknown, event: string): void {
  console.error(`[engine.io] error in a "${event}" listener of session ${this.id}:`, err);
}
