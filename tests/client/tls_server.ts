// Our Server over node:https with a certificate signed by a test CA, for the client's TLS tests.
//
//   node tests/client/tls_server.ts PORT DIR [mtls]
//
// DIR holds ca.pem, server.pem and server.key; with `mtls` the server also asks for a client
// certificate signed by that CA and refuses connections without one. Prints
// `listening on https://127.0.0.1:PORT`; exits on SIGTERM. `echo` acks its argument with the
// handshake's `secure` and the transport.
import { createServer } from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Server } from "../../server.ts";
import "../../src/runtime/node.ts";

const [port, dir, mode] = process.argv.slice(2);
const mtls = mode === "mtls";
const server = createServer({
  key: readFileSync(join(dir, "server.key")),
  cert: readFileSync(join(dir, "server.pem")),
  ca: readFileSync(join(dir, "ca.pem")),
  requestCert: mtls,
  rejectUnauthorized: mtls,
});
const io = new Server({ pingInterval: 300, pingTimeout: 200 });
io.on("connection", (socket) => {
  socket.on("echo", (value: unknown, ack: (reply: unknown) => void) => {
    ack({ value, secure: socket.handshake.secure, transport: socket.conn.transportName });
  });
});
io.attach(server);
server.listen(Number(port), "127.0.0.1", () => {
  console.log(`listening on https://127.0.0.1:${(server.address() as { port: number }).port}`);
});
process.on("SIGTERM", () => process.exit(0));
