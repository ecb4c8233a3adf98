// Writes the golden bytes of parser/msgpackparser's tests: the packets
// below as socket.io-msgpack-parser's Encoder writes them, in hex.
//
//   node conformance/js/msgpack-parser-golden.mjs > parser/msgpackparser/testdata/npm_golden.json
//
// "encode" cases are packets whose keys are in the order gosio writes
// them (type, data, nsp, id): gosio must write the same bytes. "decode"
// cases are packets as Node's socket.io and socket.io-client build them
// (other key orders, extra keys, undefined members, Dates, ArrayBuffers):
// gosio must decode them to the JSON given in the Go test.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const msgpackParser = require("socket.io-msgpack-parser");
const notepackVersion = require("socket.io-msgpack-parser/node_modules/notepack.io/package.json").version;
const parserVersion = require("socket.io-msgpack-parser/package.json").version;

const encoder = new msgpackParser.Encoder();

const long = (n) => "x".repeat(n);
const keys = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => ["k" + i, i]));

const cases = [
  // encode: gosio writes these bytes.
  ["encode", "connect-root-no-data", { type: 0, nsp: "/" }],
  ["encode", "connect-reply", { type: 0, data: { sid: "AbCdEf123" }, nsp: "/" }],
  ["encode", "connect-auth-admin", { type: 0, data: { token: "s3cr3t", n: 1.5, ok: true }, nsp: "/admin" }],
  ["encode", "disconnect-admin", { type: 1, nsp: "/admin" }],
  ["encode", "event-scalars", { type: 2, data: ["hello", "world", 42, -7, 3.14, true, false, null], nsp: "/" }],
  ["encode", "event-nested", { type: 2, data: ["nested", { a: [1, 2, { b: "c" }], d: {} , e: []}], nsp: "/" }],
  ["encode", "event-binary", { type: 2, data: ["bin", Buffer.from([1, 2, 3]), { inner: Buffer.alloc(0), list: [Buffer.from([255])] }], nsp: "/" }],
  ["encode", "event-ack-id", { type: 2, data: ["ask", 1], nsp: "/", id: 7 }],
  ["encode", "ack-binary-admin", { type: 3, data: [Buffer.alloc(300, 0xab), "done"], nsp: "/admin", id: 300000 }],
  ["encode", "ack-empty", { type: 3, data: [], nsp: "/", id: 0 }],
  ["encode", "connect-error-object", { type: 4, data: { message: "not authorized", data: { code: 42 } }, nsp: "/" }],
  ["encode", "connect-error-string", { type: 4, data: "Invalid namespace", nsp: "/nope" }],
  ["encode", "event-numbers", { type: 2, data: ["n", 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 9007199254740991, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, 1e21, 0.1, -2.5], nsp: "/" }],
  ["encode", "event-strings", { type: 2, data: ["é", "日本語", "😀", long(31), long(32), long(255), long(256)], nsp: "/" }],
  ["encode", "event-big-containers", { type: 2, data: ["big", Array.from({ length: 20 }, (_, i) => i), keys(17)], nsp: "/" }],
  ["encode", "event-number-name", { type: 2, data: [12, "a"], nsp: "/" }],

  // decode: packets as Node builds them.
  ["decode", "node-server-connect-reply", { type: 0, data: { sid: "AbCdEf123", pid: undefined }, nsp: "/" }],
  ["decode", "node-client-connect-no-auth", { type: 0, data: undefined, nsp: "/" }],
  ["decode", "node-client-event-ack", { type: 2, data: ["ask", { x: 1 }], options: { compress: true }, id: 3, nsp: "/admin" }],
  ["decode", "node-ack", { id: 5, type: 3, data: ["r", Buffer.from("hi")], nsp: "/" }],
  ["decode", "node-client-ack", { type: 3, id: 6, data: [null, undefined], nsp: "/" }],
  ["decode", "node-invalid-namespace", { type: 4, nsp: "/nope", data: { message: "Invalid namespace" } }],
  ["decode", "node-date-arraybuffer", { type: 2, data: ["d", new Date(1700000000123), new Uint8Array([9, 8]).buffer], nsp: "/" }],
  ["decode", "node-connect-buffer-auth", { type: 0, data: { key: Buffer.from([1, 2]) }, nsp: "/" }],
];

const out = {
  generator: "conformance/js/msgpack-parser-golden.mjs",
  "socket.io-msgpack-parser": parserVersion,
  "notepack.io": notepackVersion,
  cases: cases.map(([kind, name, packet]) => {
    const parts = encoder.encode(packet);
    if (parts.length !== 1) throw new Error(name + ": " + parts.length + " parts");
    // The decoder must take the bytes back (it checks the packet).
    const d = new msgpackParser.Decoder();
    d.on("decoded", () => {});
    d.add(parts[0]);
    return { kind, name, hex: Buffer.from(parts[0]).toString("hex") };
  }),
};
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
