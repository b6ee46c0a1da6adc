/**
 * python-socketio's Kombu manager format over AMQP 0-9-1 (RabbitMQ): a member of a python-socketio
 * cluster whose servers use `KombuManager` (or `AsyncAioPikaManager`), or a write-only manager
 * that emits to its clients.
 *
 * The channel is a non-durable fanout exchange (`socketio` by default) that every server binds a
 * queue of its own to, as python-socketio does. Messages are read whatever their content type:
 * JSON (a JSON object, or 5.14+'s JSON string inside JSON), or raw bytes (5.13 and older publish a
 * pickle as `application/data`, read by the plain-data pickle reader). They are published as a
 * JSON object (`application/json`: every version decodes it to a dict), or as a pickle
 * (`application/data`) when the legacy format needs one.
 *
 * Bring your own connection from `amqplib` (`await amqp.connect(url)`); the manager opens its
 * channels on it.
 *
 * ```ts
 * import amqp from "amqplib";
 * import { AsyncServer } from "./mod.ts"; // "@sio/socket.io/python"
 * import { AsyncAmqpManager } from "./amqp_manager.ts"; // "@sio/socket.io/python/amqp"
 *
 * const connection = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
 * const sio = new AsyncServer({ clientManager: new AsyncAmqpManager(connection, { format: "legacy" }) });
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { PubSubManager, type PubSubManagerOptions } from "./pubsub_manager.ts";

/**
 * An `amqplib` connection (`ChannelModel`), typed loosely: the library does not depend on it.
 *
 * @example
 * ```ts
 * import amqp from "amqplib";
 * import type { AmqpConnection } from "./amqp_manager.ts";
 * const connection: AmqpConnection = await amqp.connect("amqp://127.0.0.1");
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AmqpConnection = any;

interface AmqpMessage {
  content: Uint8Array;
  properties: { contentType?: string };
}

const textDecoder = new TextDecoder();

/**
 * What a delivered message holds, for `decodeMessage`: a JSON body becomes its text (the inner
 * text when python-socketio 5.14+ sent a JSON string), anything else stays bytes.
 */
function payloadOf(message: AmqpMessage): Uint8Array | string {
  const bytes = new Uint8Array(message.content.buffer, message.content.byteOffset, message.content.byteLength);
  if (!/json/i.test(message.properties.contentType ?? "")) return bytes;
  const text = textDecoder.decode(bytes);
  if (!text.trimStart().startsWith('"')) return text;
  try {
    const inner = JSON.parse(text);
    return typeof inner === "string" ? inner : text;
  } catch {
    return text;
  }
}

/**
 * A python-socketio compatible client manager on an AMQP fanout exchange.
 *
 * @example
 * ```ts
 * import amqp from "amqplib";
 * import { AsyncAmqpManager } from "./amqp_manager.ts";
 * const connection = await amqp.connect("amqp://127.0.0.1");
 * const external = new AsyncAmqpManager(connection, { writeOnly: true });
 * await external.emit("news", { title: "hi" }, { to: "lobby" });
 * ```
 */
export class AsyncAmqpManager extends PubSubManager {
  readonly #connection: AmqpConnection;
  // deno-lint-ignore no-explicit-any
  #publisher: Promise<any> | undefined;

  /** Uses `connection` (from `amqplib`'s `connect()`), opening a channel to publish and one to listen. */
  constructor(connection: AmqpConnection, options: PubSubManagerOptions = {}) {
    super(options);
    this.#connection = connection;
  }

  // deno-lint-ignore no-explicit-any
  async #channel(): Promise<any> {
    const channel = await this.#connection.createChannel();
    channel.on("error", (err: Error) => this._log(`AMQP channel error: ${err.message}`));
    await channel.assertExchange(this.channel, "fanout", { durable: false });
    return channel;
  }

  /** Publishes on the exchange: a JSON object, or a pickle in the legacy format. */
  protected async publish(payload: string | Uint8Array): Promise<unknown> {
    const channel = await (this.#publisher ??= this.#channel().catch((err) => {
      this.#publisher = undefined;
      throw err;
    }));
    const json = typeof payload === "string";
    const content = json
      ? Buffer.from(payload, "utf8")
      : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
    return channel.publish(this.channel, "", content, {
      contentType: json ? "application/json" : "application/data",
      contentEncoding: json ? "utf-8" : "binary",
    });
  }

  /** Binds a queue of its own (exclusive, deleted with it) to the exchange and consumes it. */
  protected async listen(onMessage: (payload: Uint8Array | string) => void): Promise<() => Promise<void>> {
    const channel = await this.#channel();
    const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, this.channel, "");
    const { consumerTag } = await channel.consume(queue, (message: AmqpMessage | null) => {
      if (message) onMessage(payloadOf(message));
    }, { noAck: true });
    return async () => {
      await channel.cancel(consumerTag);
      await channel.close();
    };
  }

  /** Stops listening and closes the publishing channel (the connection stays yours). */
  override async close(): Promise<void> {
    await super.close();
    const publisher = this.#publisher;
    this.#publisher = undefined;
    if (publisher) await (await publisher.catch(() => undefined))?.close().catch(() => {});
  }
}
