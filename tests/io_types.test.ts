/**
 * Type-level checks of the io layer's generics (they fail `deno check`, not at run time), plus a
 * run-time smoke test so the file counts as a test module on every runtime.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../src/io/server.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  EventNamesWithAck,
  EventNamesWithoutAck,
  FirstNonErrorArg,
  Last,
} from "../src/util/typed_events.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T extends true>(_: T): void {}

interface ClientToServer {
  hello: (name: string, age: number) => void;
  ask: (question: string, ack: (answer: number) => void) => void;
}
interface ServerToClient {
  news: (title: string) => void;
  poll: (ack: (vote: string) => void) => void;
}
interface InterServer {
  ping: (ack: (pong: string) => void) => void;
}
interface Data {
  user: string;
}

expectType<Equal<EventNamesWithAck<ClientToServer>, "ask">>(true);
expectType<Equal<EventNamesWithoutAck<ClientToServer>, "hello">>(true);
expectType<Equal<Last<[string, number]>, number>>(true);
expectType<Equal<AllButLast<[string, number, boolean]>, [string, number]>>(true);
expectType<Equal<FirstNonErrorArg<(err: Error, v: string) => void>, string>>(true);
expectType<Equal<FirstNonErrorArg<(v: number) => void>, number>>(true);
expectType<
  Equal<Parameters<DecorateAcknowledgements<ServerToClient>["poll"]>[0], (err: Error, vote: string) => void>
>(true);
expectType<
  Equal<
    Parameters<DecorateAcknowledgementsWithMultipleResponses<ServerToClient>["poll"]>[0],
    (responses: string[]) => void
  >
>(true);

// Compile-only: never called.
function typedUsage(io: Server<ClientToServer, ServerToClient, InterServer, Data>): void {
  io.on("connection", (socket) => {
    socket.on("hello", (name, age) => {
      expectType<Equal<typeof name, string>>(true);
      expectType<Equal<typeof age, number>>(true);
    });
    socket.on("ask", (_question, ack) => ack(42));
    socket.on("disconnect", (reason) => {
      expectType<Equal<typeof reason, import("../src/io/socket.ts").DisconnectReason>>(true);
    });
    socket.emit("news", "title");
    // @ts-expect-error wrong argument type
    socket.emit("news", 1);
    // @ts-expect-error unknown event
    socket.emit("nope");
    socket.emit("poll", (vote) => expectType<Equal<typeof vote, string>>(true));
    socket.timeout(100).emit("poll", (err, vote) => {
      expectType<Equal<typeof err, Error>>(true);
      expectType<Equal<typeof vote, string>>(true);
    });
    const vote: Promise<string> = socket.emitWithAck("poll");
    void vote;
    expectType<Equal<typeof socket.data, Data>>(true);
    socket.to("room").emit("news", "x");
  });
  io.emit("news", "broadcast");
  io.timeout(100).emit("poll", (err, votes) => {
    expectType<Equal<typeof err, Error>>(true);
    expectType<Equal<typeof votes, string[]>>(true);
  });
  const votes: Promise<string[]> = io.timeout(100).emitWithAck("poll");
  void votes;
  io.serverSideEmit("ping", (err, pongs) => {
    expectType<Equal<typeof err, Error>>(true);
    expectType<Equal<typeof pongs, string[]>>(true);
  });
  io.on("ping", (ack) => ack("pong"));
  io.of("/admin").on("connection", (socket) => socket.emit("news", "admin"));
}

describe("io types", () => {
  it("compiles the typed usage (checked by deno check)", () => {
    assert.equal(typeof typedUsage, "function");
    const io = new Server();
    io.on("connection", (socket) => socket.on("anything", (..._args: unknown[]) => {}));
    assert.equal(io.sockets.name, "/");
  });
});
