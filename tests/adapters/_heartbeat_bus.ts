/**
 * A test bus for the heartbeat flavour of socket.io-adapter's cluster message protocol: plain
 * Redis pub/sub, msgpack, `hb#NSP#` for every message and `hb#NSP#UID#` for the responses to server
 * UID. node_cluster_server.mjs has the same bus under socket.io-adapter's own
 * `ClusterAdapterWithHeartbeat` (`--adapter=heartbeat`); here it sits on ours.
 *
 * @module
 */
import type { AnyNamespace } from "../../src/io/adapter.ts";
import { type ClusterMessage, ClusterMessageAdapterWithHeartbeat } from "../../src/adapters/cluster_message.ts";
import { type RedisClient, type RedisOps, wrapClient } from "../../src/adapters/redis/_client.ts";
import { decodeMsgpack, encodeMsgpack } from "../../src/adapters/redis/_msgpack.ts";

/** The heartbeat timers of the tests (short, so a gone server is noticed within a second). */
export const HEARTBEAT = { heartbeatInterval: 200, heartbeatTimeout: 1000 };

/** Our side of the test bus. */
export class HeartbeatBusAdapter extends ClusterMessageAdapterWithHeartbeat {
  readonly channel: string;
  readonly #pub: RedisOps;
  readonly #sub: RedisOps;
  #unsubscribe: Promise<() => Promise<void>> | undefined;

  constructor(nsp: AnyNamespace, pub: RedisClient, sub: RedisClient) {
    super(nsp, { ...HEARTBEAT, requestsTimeout: 1000 });
    this.channel = `hb#${nsp.name}#`;
    this.#pub = wrapClient(pub);
    this.#sub = wrapClient(sub);
  }

  override async init(): Promise<void> {
    this.#unsubscribe = this.#sub.subscribe([this.channel, `${this.channel}${this.uid}#`], (_channel, payload) => {
      let message: ClusterMessage;
      try {
        message = decodeMsgpack(payload) as ClusterMessage;
      } catch {
        return;
      }
      this.onMessage(message);
    });
    await this.#unsubscribe;
    await super.init();
  }

  protected doPublish(message: ClusterMessage): Promise<unknown> {
    return this.#pub.publish(this.channel, encodeMsgpack(message));
  }

  protected doPublishResponse(uid: string, response: ClusterMessage): Promise<unknown> {
    return this.#pub.publish(`${this.channel}${uid}#`, encodeMsgpack(response));
  }

  override async close(): Promise<void> {
    await super.close();
    await (await this.#unsubscribe)?.();
  }
}
