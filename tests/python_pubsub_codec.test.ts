// The python-socketio pub/sub codec (src/python/pickle.ts, pubsub_message.ts): pickles made by
// Debian's Python (every protocol) read back as plain data; hostile pickles (GLOBAL, STACK_GLOBAL,
// REDUCE, INST, OBJ, BUILD, NEWOBJ, sets, huge lengths, truncations, cycles, memo bombs, deep
// nesting, random mutations) refused with a PickleError and nothing else; our pickles and JSON read
// by Python as python-socketio would; message fields checked.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  decodeMessage,
  type EmitMessage,
  encodeMessage,
  MessageError,
  PickleError,
  readPickle,
  Tuple,
  tuple,
  writePickle,
} from "../src/python/mod.ts";

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

function python(code: string, input?: Uint8Array | string): string {
  return execFileSync(PYTHON, ["-c", code], { input, timeout: 20000 }).toString();
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

const bytes = (...values: number[]) => new Uint8Array(values);

/** Pickles python-socketio 5.7.2 would publish, and attacks, made by Python itself. */
const MAKE = String.raw`
import base64, json, os, pickle, collections
def b(x): return base64.b64encode(x).decode()
out = {}
msg = {'method': 'emit', 'event': 'news', 'data': ('a', 1, b'\x00\xff', [1.5, None, True], {'k': -2**40}),
       'namespace': '/chat', 'room': 'lobby', 'skip_sid': 'sid1', 'callback': ('sid2', '/chat', 7), 'host_id': 'h1'}
for p in range(3, 6):
    out['emit%d' % p] = b(pickle.dumps(msg, protocol=p))
out['single'] = b(pickle.dumps({'method': 'emit', 'event': 'one', 'data': [1, 2], 'namespace': None, 'room': None,
                                 'skip_sid': None, 'callback': None, 'host_id': 'h'}))
out['none'] = b(pickle.dumps({'method': 'emit', 'event': 'none', 'data': None, 'namespace': '/', 'room': None,
                               'skip_sid': None, 'callback': None, 'host_id': 'h'}))
out['callback'] = b(pickle.dumps({'method': 'callback', 'host_id': 'h', 'sid': 's', 'namespace': '/', 'id': 3,
                                   'args': ('ok', b'\x01')}))
out['disconnect'] = b(pickle.dumps({'method': 'disconnect', 'sid': 's', 'namespace': '/'}))
out['close_room'] = b(pickle.dumps({'method': 'close_room', 'room': 'r', 'namespace': None}))
out['proto0'] = b(pickle.dumps({'a': [1, 'x', 2.5, True, None, (1, 2)], 'u': 'h\u00e9\u2603'}, protocol=0))
out['proto1'] = b(pickle.dumps({'a': [1, 'x', 2.5, True, None, (1, 2)], 'big': 2**70}, protocol=1))
out['shared'] = b(pickle.dumps({'x': ['s'] * 3, 'y': (lambda l: [l, l])([1, 2])}))
class Evil:
    def __reduce__(self): return (os.system, ('echo pwned',))
out['reduce'] = b(pickle.dumps({'method': 'emit', 'data': Evil()}, protocol=4))
out['reduce0'] = b(pickle.dumps(Evil(), protocol=0))
out['global2'] = b(pickle.dumps(collections.OrderedDict(a=1), protocol=2))
class Plain:
    def __init__(self): self.x = 1
out['newobj'] = b(pickle.dumps(Plain(), protocol=2))
out['inst'] = b(pickle.dumps(Plain(), protocol=0))
out['set'] = b(pickle.dumps({1, 2}, protocol=4))
out['bytes_proto2'] = b(pickle.dumps(b'x', protocol=2))
l = []; l.append(l)
out['cycle'] = b(pickle.dumps(l, protocol=4))
print(json.dumps(out))
`;

describe("plain-data pickle reader", () => {
  let made: Record<string, string>;
  before(() => {
    made = JSON.parse(python(MAKE));
  });

  it("reads python-socketio's pickled messages, every protocol with bytes", () => {
    for (const p of [3, 4, 5]) {
      const value = readPickle(fromBase64(made[`emit${p}`])) as Record<string, unknown>;
      assert.equal(value.method, "emit");
      assert.ok(value.data instanceof Tuple);
      assert.deepEqual((value.data as Tuple).items, ["a", 1, bytes(0, 255), [1.5, null, true], { k: -(2 ** 40) }]);
      assert.ok(value.callback instanceof Tuple);
    }
    const zero = readPickle(fromBase64(made.proto0)) as Record<string, unknown>;
    assert.deepEqual(zero.u, "hé☃");
    assert.deepEqual((zero.a as unknown[]).slice(0, 5), [1, "x", 2.5, true, null]);
    const one = readPickle(fromBase64(made.proto1)) as Record<string, unknown>;
    assert.equal(one.big, 2 ** 70);
    // a shared (memoized) value comes back as separate copies
    const shared = readPickle(fromBase64(made.shared)) as { y: number[][] };
    assert.deepEqual(shared.y, [[1, 2], [1, 2]]);
    assert.notEqual(shared.y[0], shared.y[1]);
  });

  it("refuses every object-building or importing opcode", () => {
    const cases: Record<string, RegExp> = {
      reduce: /Refused opcode (STACK_GLOBAL|GLOBAL|REDUCE)/,
      reduce0: /Refused opcode GLOBAL/,
      global2: /Refused opcode GLOBAL/,
      newobj: /Refused opcode GLOBAL/,
      inst: /Refused opcode (INST|GLOBAL|'i')/,
      set: /Refused opcode EMPTY_SET/,
      bytes_proto2: /Refused opcode GLOBAL/,
    };
    for (const [name, pattern] of Object.entries(cases)) {
      assert.throws(() => readPickle(fromBase64(made[name])), (err: Error) => {
        assert.ok(err instanceof PickleError, `${name}: ${err}`);
        assert.match(err.message, pattern, name);
        return true;
      });
    }
    // hand-made: each refused opcode alone after a PROTO 4
    for (const op of [0x63, 0x93, 0x52, 0x69, 0x6f, 0x62, 0x81, 0x92, 0x82, 0x83, 0x84, 0x50, 0x51, 0x97, 0x98, 0xff]) {
      assert.throws(() => readPickle(bytes(0x80, 4, op, 0x2e)), PickleError, `opcode 0x${op.toString(16)}`);
    }
    // REDUCE over values that look harmless is still REDUCE
    assert.throws(() => readPickle(bytes(0x80, 4, 0x4e, 0x29, 0x52, 0x2e)), /REDUCE/);
    assert.throws(() => readPickle(bytes(0x80, 4, 0x7d, 0x7d, 0x62, 0x2e)), /BUILD/);
  });

  it("refuses huge lengths, truncations, cycles, memo bombs and deep nesting", () => {
    assert.throws(() => readPickle(bytes(0x80, 4, 0x58, 0xff, 0xff, 0xff, 0xff, 0x61, 0x2e)), /Truncated/);
    assert.throws(
      () => readPickle(bytes(0x80, 4, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x2e)),
      /Truncated/,
    );
    assert.throws(() => readPickle(bytes(0x80, 4, 0x8b, 0xff, 0xff, 0xff, 0x7f)), /too large|Truncated/);
    const valid = fromBase64(made.emit4);
    for (let cut = 0; cut < valid.length; cut++) {
      assert.throws(() => readPickle(valid.subarray(0, cut)), PickleError, `cut at ${cut}`);
    }
    assert.throws(() => readPickle(fromBase64(made.cycle)), /contains itself/);
    // a memo bomb: each list holds the previous one twice; 40 levels expand to 2^40 values
    const bomb: number[] = [0x80, 4, 0x5d, 0x94, 0x30]; // [] memo 0, pop
    for (let i = 0; i < 40; i++) bomb.push(0x5d, 0x28, 0x68, i, 0x68, i, 0x65, 0x94, 0x30); // [m[i], m[i]] memo i+1
    bomb.push(0x68, 40, 0x2e);
    const started = Date.now();
    assert.throws(() => readPickle(new Uint8Array(bomb), { maxValues: 100_000 }), /More than 100000 values/);
    assert.ok(Date.now() - started < 2000, "refused quickly");
    const deep = [0x80, 4, ...new Array(500).fill(0x5d), ...new Array(499).fill(0x61), 0x2e];
    assert.throws(() => readPickle(new Uint8Array(deep)), /deeper than 100/);
    assert.throws(() => readPickle(new Uint8Array(100), { maxBytes: 10 }), /over the 10 limit/);
    assert.throws(() => readPickle(bytes(0x80, 4, 0x4e, 0x4e, 0x2e)), /left on the stack/);
    assert.throws(() => readPickle(bytes(0x80, 4, 0x65, 0x2e)), PickleError); // APPENDS without a mark
    assert.throws(() => readPickle(bytes(0x80, 4, 0x68, 9, 0x2e)), /Memo entry 9/);
    assert.throws(() => readPickle(bytes(0x80, 4, 0x7d, 0x5d, 0x4e, 0x73, 0x2e)), /Dict key/); // {[]: None}
  });

  it("survives random mutations: a value or a PickleError, never anything else", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const sources = ["emit4", "emit5", "proto0", "proto1", "callback", "shared"].map((k) => fromBase64(made[k]));
    let refused = 0;
    const started = Date.now();
    for (let i = 0; i < 3000; i++) {
      const source = sources[i % sources.length];
      const mutated = source.slice();
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      try {
        readPickle(mutated, { maxValues: 10_000 });
      } catch (err) {
        assert.ok(err instanceof PickleError, `input ${i}: ${(err as Error).stack}`);
        refused++;
      }
    }
    assert.ok(refused > 1000, `${refused} refused`);
    assert.ok(Date.now() - started < 5000);
  });

  it("writes large pickles (the buffer grows mid-value) that Python reads back, and reads Python's", () => {
    const items = Array.from(
      { length: 2000 },
      (_, i) => ({ i, name: `item ${i} é☃`, list: [i, -i - 1, i * 1.5, null] }),
    );
    const big = { items, blob: new Uint8Array(20000).map((_, i) => i & 0xff), text: "x".repeat(70000) };
    const read = python(
      "import pickle,sys,json; v=pickle.loads(sys.stdin.buffer.read()); " +
        "v['blob'] = sum(v['blob']); v['text'] = len(v['text']); print(json.dumps(v))",
      writePickle(big),
    );
    const expectedBlob = big.blob.reduce((sum, b) => sum + b, 0);
    assert.deepEqual(JSON.parse(read), { items, blob: expectedBlob, text: 70000 });
    const back = readPickle(
      fromBase64(
        python(
          "import pickle,base64,json,sys; v=json.loads(sys.stdin.read()); v['blob']=bytes(range(256))*80; " +
            "print(base64.b64encode(pickle.dumps(v, protocol=5)).decode())",
          JSON.stringify({ items, text: big.text }),
        ).trim(),
      ),
    ) as { items: unknown; text: string; blob: Uint8Array };
    assert.deepEqual(back.items, items);
    assert.equal(back.text, big.text);
    assert.equal(back.blob.length, 20480);
  });

  it("writes pickles Python reads back as the same plain data", () => {
    const written = writePickle({
      method: "emit",
      data: tuple("é", 1, 2 ** 40, -(2 ** 31), 2.5, new Uint8Array([1, 2]), null, true, [1, [2]], { k: "v" }),
      absent: undefined,
    });
    const read = python(
      "import pickle,sys,json; v=pickle.loads(sys.stdin.buffer.read()); " +
        "print(json.dumps({'keys': sorted(v), 'tuple': isinstance(v['data'], tuple), 'bytes': list(v['data'][5]), " +
        "'rest': [x for i, x in enumerate(v['data']) if i != 5]}))",
      written,
    );
    assert.deepEqual(JSON.parse(read), {
      keys: ["data", "method"],
      tuple: true,
      bytes: [1, 2],
      rest: ["é", 1, 2 ** 40, -(2 ** 31), 2.5, null, true, [1, [2]], { k: "v" }],
    });
    assert.deepEqual(readPickle(written), {
      method: "emit",
      data: new Tuple(["é", 1, 2 ** 40, -(2 ** 31), 2.5, new Uint8Array([1, 2]), null, true, [1, [2]], { k: "v" }]),
    });
  });
});

describe("pub/sub messages", () => {
  let made: Record<string, string>;
  before(() => {
    made = JSON.parse(python(MAKE));
  });

  it("reads the pickled (up to 5.13) format: a tuple is several arguments, anything else one", () => {
    const emit = decodeMessage(fromBase64(made.emit4)) as EmitMessage;
    assert.deepEqual(emit, {
      method: "emit",
      event: "news",
      args: ["a", 1, bytes(0, 255), [1.5, null, true], { k: -(2 ** 40) }],
      namespace: "/chat",
      rooms: ["lobby"],
      skipSids: ["sid1"],
      callback: { room: "sid2", namespace: "/chat", id: 7 },
      hostId: "h1",
    });
    assert.deepEqual((decodeMessage(fromBase64(made.single)) as EmitMessage).args, [[1, 2]]);
    assert.deepEqual((decodeMessage(fromBase64(made.single)) as EmitMessage).namespace, "/");
    assert.deepEqual((decodeMessage(fromBase64(made.none)) as EmitMessage).args, []);
    assert.deepEqual(decodeMessage(fromBase64(made.callback)), {
      method: "callback",
      hostId: "h",
      sid: "s",
      namespace: "/",
      id: 3,
      args: ["ok", bytes(1)],
    });
    assert.deepEqual(decodeMessage(fromBase64(made.disconnect)), { method: "disconnect", sid: "s", namespace: "/" });
    assert.deepEqual(decodeMessage(fromBase64(made.close_room)), { method: "close_room", room: "r", namespace: "/" });
    assert.throws(() => decodeMessage(fromBase64(made.reduce)), /pickle refused: Refused opcode/);
  });

  it("reads and writes the JSON (5.14+) format, binary included", () => {
    const message: EmitMessage = {
      method: "emit",
      event: "file",
      args: ["name", { body: bytes(1, 2, 3) }],
      namespace: "/",
      rooms: ["a", "b"],
      skipSids: [],
      hostId: "me",
    };
    const json = encodeMessage(message, "json") as string;
    assert.deepEqual(JSON.parse(json), {
      method: "emit",
      event: "file",
      data: [["name", { body: { _placeholder: true, num: 0 } }], "AQID"],
      binary: true,
      namespace: "/",
      room: ["a", "b"],
      skip_sid: null,
      callback: null,
      host_id: "me",
    });
    assert.deepEqual(decodeMessage(json), message);
    // a single None is no argument (python-socketio sends none)
    assert.deepEqual(
      (decodeMessage('{"method":"emit","event":"e","data":[null],"binary":false,"namespace":"/"}') as EmitMessage).args,
      [],
    );
    // legacy JSON (older servers read it): data is the one argument
    assert.deepEqual(
      (decodeMessage('{"method":"emit","event":"e","data":[1,2],"namespace":"/"}') as EmitMessage).args,
      [[1, 2]],
    );
  });

  it("writes the legacy format as python-socketio 5.7.2 reads it", () => {
    const one = encodeMessage(
      { method: "emit", event: "e", args: [[1, 2]], namespace: "/", rooms: null, skipSids: ["x"], hostId: "h" },
      "legacy",
    );
    assert.equal(typeof one, "string"); // one argument without bytes: JSON
    const several = encodeMessage(
      { method: "emit", event: "e", args: [1, bytes(9)], namespace: "/", rooms: ["r"], skipSids: [], hostId: "h" },
      "legacy",
    );
    assert.ok(several instanceof Uint8Array); // a tuple, bytes: a pickle
    // What 5.7.2's listener does: pickle.loads, else json.loads; then the data as emit arguments.
    const reader = String.raw`
import sys, json, pickle, base64
out = []
for line in sys.stdin.read().split():
    raw = base64.b64decode(line)
    try: m = pickle.loads(raw)
    except Exception: m = json.loads(raw)
    d = m['data']
    args = list(d) if isinstance(d, tuple) else [] if d is None else [d]
    out.append([m['event'], [list(a) if isinstance(a, bytes) else a for a in args], m['room'], m['skip_sid']])
print(json.dumps(out))
`;
    const toB64 = (p: string | Uint8Array) =>
      btoa(String.fromCharCode(...(typeof p === "string" ? new TextEncoder().encode(p) : p)));
    assert.deepEqual(JSON.parse(python(reader, `${toB64(one)}\n${toB64(several)}`)), [
      ["e", [[1, 2]], null, "x"],
      ["e", [1, [9]], "r", null],
    ]);
    assert.throws(
      () =>
        encodeMessage({ method: "callback", hostId: "h", sid: "s", namespace: "/", id: 1, args: [bytes(1)] }, "json"),
      MessageError,
    );
  });

  it("refuses wrong types, unknown methods and oversized messages", () => {
    const bad = [
      ['{"method":"emit","event":42,"data":[],"namespace":"/"}', /"event" is not a string/],
      ['{"method":"emit","event":"e","room":[{}],"namespace":"/"}', /not a room name/],
      ['{"method":"emit","event":"e","callback":["s","/"],"namespace":"/"}', /"callback"/],
      ['{"method":"emit","event":"e","callback":["s","/",-1],"namespace":"/"}', /ack id/],
      ['{"method":"emit","event":"e","data":[{"_placeholder":true,"num":5}],"binary":true}', /placeholder/],
      ['{"method":"emit","event":"e","data":["x", 5],"binary":true}', /base64/],
      ['{"method":"callback","sid":"s","id":1,"args":[]}', /host_id/],
      ['{"method":"disconnect","sid":7}', /"sid" is not a string/],
      ['{"method":"shutdown"}', /unknown method/],
      ["[1,2,3]", /neither JSON nor a pickle|not an object/],
      ["{not json", /not JSON/],
      ["null", /neither JSON nor a pickle/],
    ] as const;
    for (const [payload, pattern] of bad) {
      assert.throws(
        () => decodeMessage(payload),
        (err: Error) => err instanceof MessageError && pattern.test(err.message),
      );
    }
    assert.throws(() => decodeMessage("{" + " ".repeat(200) + "}", { maxBytes: 100 }), /over the 100 limit/);
    const deep = '{"method":"emit","event":"e","data":' + "[".repeat(200) + "]".repeat(200) + "}";
    assert.throws(() => decodeMessage(deep), /nested too deep/);
  });
});
