// The client's TLS options (ca, cert, key, rejectUnauthorized) on the runtime running the tests,
// against our server over node:https (tests/client/tls_server.ts, a Node process) with a
// certificate signed by a test CA made here with openssl: through the runtime's own fetch and
// WebSocket, or node:https where those cannot take a setting (Deno: rejectUnauthorized) and with
// autoUnref.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClientOptions } from "../client.ts";
import { platformTransports } from "../src/client/_runtime_features.ts";
import { bin, type ServerProcess, spawnServer } from "./client/_spawn.ts";
import { closeAll, connect, next } from "./client/_helpers.ts";

/** A test CA, a server certificate for 127.0.0.1 and a client certificate, signed by the CA. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-days", "1", "-subj", "/CN=sio test CA", "-keyout", "ca.key", "-out", "ca.pem");
  for (
    const [name, ext] of [
      ["server", "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"],
      ["client", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n"],
    ]
  ) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl("req", ...ec, "-subj", `/CN=${name}`, "-keyout", `${name}.key`, "-out", `${name}.csr`);
    const serial = name === "server" ? "2" : "3";
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-set_serial",
      serial,
      "-days",
      "1",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`,
    );
  }
}

/** The text of an error, its description and their causes. */
function describeError(err: unknown): string {
  const parts: string[] = [];
  for (
    let e = err as { message?: unknown; description?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 6;
    i++
  ) {
    parts.push(String(e.message ?? e));
    e = (e.description ?? e.cause) as typeof e;
  }
  return parts.join(" / ");
}

const MODES = [["polling"], ["websocket"], ["polling", "websocket"]] as const;

describe("client TLS options", () => {
  const dir = mkdtempSync(join(tmpdir(), "sio-client-tls-"));
  let tls: ServerProcess;
  let mtls: ServerProcess;
  let ca: string;
  const url = (server: ServerProcess) => `https://127.0.0.1:${server.port}`;
  before(async () => {
    makeCertificates(dir);
    ca = readFileSync(join(dir, "ca.pem"), "utf8");
    [tls, mtls] = await Promise.all([
      spawnServer(bin("node"), (port) => ["tests/client/tls_server.ts", String(port), dir]),
      spawnServer(bin("node"), (port) => ["tests/client/tls_server.ts", String(port), dir, "mtls"]),
    ]);
  });
  after(async () => {
    closeAll();
    await Promise.all([tls?.close(), mtls?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function echo(server: ServerProcess, opts: ClientOptions): Promise<{ secure: boolean; transport: string }> {
    const socket = connect(url(server), { reconnection: false, ...opts });
    if (opts.transports?.length === 2) {
      await next(socket, "connect");
      if (socket.io.engine!.transport!.name !== "websocket") await next(socket.io.engine!, "upgrade");
    }
    const reply = await socket.timeout(4000).emitWithAck("echo", "x");
    assert.equal(reply.value, "x");
    return { secure: reply.secure, transport: reply.transport };
  }

  for (const transports of MODES) {
    it(`connects with ca over ${transports.join(" + ")}`, async () => {
      const reply = await echo(tls, { ca, transports: [...transports] });
      assert.deepEqual(reply, { secure: true, transport: transports.at(-1) });
    });
  }

  it("fails without ca, saying the certificate did not verify", async () => {
    for (const transports of [["polling"], ["websocket"]] as const) {
      const socket = connect(url(tls), { reconnection: false, transports: [...transports] });
      const [err] = await next(socket, "connect_error");
      assert.match(err.message, /fetch read error|websocket error/);
      // Node's WebSocket error event says nothing more; every fetch names the certificate.
      if (transports[0] === "polling") assert.match(describeError(err), /certificate|UnknownIssuer/i);
    }
  });

  it("connects without ca when rejectUnauthorized is false", async () => {
    for (const transports of MODES) {
      const reply = await echo(tls, { rejectUnauthorized: false, transports: [...transports] });
      assert.equal(reply.transport, transports.at(-1));
    }
  });

  it("presents a client certificate (cert and key) to a server that asks for one", async () => {
    const cert = readFileSync(join(dir, "client.pem"), "utf8");
    const key = readFileSync(join(dir, "client.key"), "utf8");
    for (const transports of [["polling"], ["websocket"]] as const) {
      assert.equal((await echo(mtls, { ca, cert, key, transports: [...transports] })).transport, transports[0]);
      const refused = connect(url(mtls), { ca, reconnection: false, transports: [...transports] });
      await next(refused, "connect_error");
    }
  });

  it("uses the runtime's own WebSocket where it takes the settings, node:https where it does not", () => {
    const isDeno = "Deno" in globalThis;
    const target = `wss://127.0.0.1:${tls.port}/socket.io/?EIO=4&transport=websocket`;
    const kinds = [{ ca }, { rejectUnauthorized: false }, { ca, autoUnref: true }].map((opts) => {
      const ws = new (platformTransports(opts)!.WebSocket)(target);
      ws.onerror = null;
      ws.close();
      return ws instanceof WebSocket ? "native" : "node:https";
    });
    // Deno's HTTP client cannot skip verification; autoUnref needs sockets that can be unreferenced.
    assert.deepEqual(kinds, ["native", isDeno ? "node:https" : "native", "node:https"]);
  });

  it("takes the TLS settings through autoUnref's node:https transports too", async () => {
    const reply = await echo(tls, { ca, autoUnref: true, transports: ["polling", "websocket"] });
    assert.deepEqual(reply, { secure: true, transport: "websocket" });
    const socket = connect(url(tls), { autoUnref: true, reconnection: false, transports: ["polling"] });
    const [err] = await next(socket, "connect_error");
    assert.match(describeError(err), /certificate/i);
  });
});
