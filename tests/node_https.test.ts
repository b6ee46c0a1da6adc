// io.attach() on a node:https server: polling and WebSocket over TLS (Node only; a self-signed
// certificate made with openssl for 127.0.0.1).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const isNode = !(globalThis as { Deno?: unknown }).Deno && !(globalThis as { Bun?: unknown }).Bun;

// Node only: Deno and Bun serve TLS through their own serve(); other runtimes define no test here.
if (isNode) {
  describe("Node: io.attach(httpsServer)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sio-tls-"));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("serves polling and WebSocket sessions over TLS; handshake.secure is true", async () => {
      execFileSync("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ], { stdio: "ignore" });
      const { createServer } = await import("node:https");
      const { Server } = await import("../server.ts");
      const { io: connect } = await import("../client.ts");
      const io = new Server();
      const secure: boolean[] = [];
      io.on("connection", (socket) => {
        secure.push(socket.handshake.secure);
        socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
      });
      const server = createServer({
        key: readFileSync(join(dir, "key.pem")),
        cert: readFileSync(join(dir, "cert.pem")),
      });
      io.attach(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"; // the self-signed certificate, in this test only
      try {
        for (const transports of [["polling"], ["websocket"]] as const) {
          const socket = connect(`https://127.0.0.1:${port}`, { forceNew: true, transports: [...transports] });
          assert.equal(await socket.timeout(5000).emitWithAck("echo", transports[0]), transports[0]);
          socket.disconnect();
        }
        assert.deepEqual(secure, [true, true]);
      } finally {
        if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
        else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
        await io.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
}
