// golden.mjs prints how the reference Socket.IO parser (npm socket.io-parser
// 4.2.7) encodes a list of packets, as a JSON array with one
// {"name", "text", "attachments"} object per line, attachments in hex.
// golden_test.go builds the same packets in Go and compares; regenerate with
//
//	node parser/testdata/golden.mjs > parser/testdata/golden.json
//
// The package is taken from ../../conformance/node_modules, or from the
// node_modules directory in GOSIO_NODE_MODULES.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const WANT_VERSION = "4.2.7";

const here = path.dirname(fileURLToPath(import.meta.url));
const modules =
  process.env.GOSIO_NODE_MODULES ||
  path.join(here, "..", "..", "conformance", "node_modules");
const require = createRequire(path.join(modules, "..", "package.json"));
const entry = require.resolve("socket.io-parser");
const pkgDir = path.resolve(path.dirname(entry), "..", "..");
const version = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
if (version !== WANT_VERSION) {
  console.error(`golden.mjs: found socket.io-parser ${version} in ${pkgDir}, want ${WANT_VERSION}`);
  process.exit(1);
}
const { Encoder, PacketType: T } = require("socket.io-parser");

const buf = (...bytes) => Buffer.from(bytes);
const u8 = (...bytes) => new Uint8Array(bytes);
const ab = (...bytes) => new Uint8Array(bytes).buffer;

// Objects list their keys in sorted order, the order Go's map[string]any
// is written in, except where a Go struct fixes another order.
const packets = [
  ["connect", { type: T.CONNECT, nsp: "/" }],
  ["connect-admin-sid", { type: T.CONNECT, nsp: "/admin", data: { sid: "oSO0OpakMV_3jnilAAAA" } }],
  ["connect-auth", { type: T.CONNECT, nsp: "/", data: { token: "123" } }],
  ["connect-error", { type: T.CONNECT_ERROR, nsp: "/", data: { message: "Not authorized" } }],
  ["connect-error-data", { type: T.CONNECT_ERROR, nsp: "/custom", data: { message: "nope", data: { code: 42 } } }],
  ["connect-error-string", { type: T.CONNECT_ERROR, nsp: "/", data: "plain" }],
  ["disconnect", { type: T.DISCONNECT, nsp: "/" }],
  ["disconnect-admin", { type: T.DISCONNECT, nsp: "/admin" }],
  ["event-foo", { type: T.EVENT, nsp: "/", data: ["foo"] }],
  ["event-foo-ack", { type: T.EVENT, nsp: "/", id: 12, data: ["foo"] }],
  ["ack-admin", { type: T.ACK, nsp: "/admin", id: 13, data: ["bar"] }],
  ["ack-empty", { type: T.ACK, nsp: "/", id: 0, data: [] }],
  ["ack-max-safe-id", { type: T.ACK, nsp: "/", id: 9007199254740991, data: ["x"] }],
  ["event-numeric-name", { type: T.EVENT, nsp: "/", data: [1, "x"] }],
  ["event-unicode-nsp", { type: T.EVENT, nsp: "/ünï", data: ["hi"] }],
  ["message-back", { type: T.EVENT, nsp: "/", data: ["message-back", 1, "2", { 3: [true] }] }],
  ["message-back-custom", { type: T.EVENT, nsp: "/custom", data: ["auth", { token: "abc" }] }],
  ["strings", { type: T.EVENT, nsp: "/", data: ["esc", "q\" b\\ n\n t\t r\r bs\b ff\f c\u0001 \u001f del\u007f <>& é ☃ 😀 \u2028\u2029 /", ""] }],
  ["numbers", { type: T.EVENT, nsp: "/", data: ["nums", 0, -1, 1.5, -2.25, 1e21, 1e-7, 123456789, 0.1, 1e300, 5e-324, 2 ** 53, 123456789012345680000, -0, 1e20, 0.000001] }],
  ["literals", { type: T.EVENT, nsp: "/", data: ["lits", null, true, false, [], {}, ""] }],
  ["struct", { type: T.EVENT, nsp: "/", data: ["user", { name: "Ann", age: 30, tags: ["a", "b"] }] }],
  ["binary-event", { type: T.EVENT, nsp: "/", data: ["baz", buf(1, 2, 3, 4)] }],
  ["binary-event-admin", { type: T.EVENT, nsp: "/admin", data: ["baz", buf(1, 2), u8(3, 4)] }],
  ["binary-ack", { type: T.ACK, nsp: "/", id: 15, data: ["bar", buf(0xff)] }],
  ["binary-ack-admin", { type: T.ACK, nsp: "/admin", id: 1, data: [ab(9, 8, 7)] }],
  ["binary-nested", { type: T.EVENT, nsp: "/", data: ["nested", { a: [buf(0), { b: buf(1) }], c: "x" }, [buf(2)], buf()] }],
  ["binary-map", { type: T.EVENT, nsp: "/", data: ["map", { a: buf(0xa), b: "s", c: buf(0xc), d: [1, buf(0xd)] }] }],
  ["binary-deep", { type: T.EVENT, nsp: "/", data: ["deep", [[[[{ x: [buf(0xde, 0xad)] }]]]]] }],
  ["binary-many", { type: T.EVENT, nsp: "/", data: ["many", ...Array.from({ length: 12 }, (_, i) => buf(i))] }],
  ["binary-echo", { type: T.EVENT, nsp: "/", data: ["message-back", buf(1, 2, 3), buf(4, 5, 6)] }],
  ["binary-echo-ack", { type: T.ACK, nsp: "/", id: 789, data: [buf(1, 2, 3), buf(4, 5, 6)] }],
  ["binary-first-arg", { type: T.ACK, nsp: "/nsp", id: 7, data: [buf(0x42), "after"] }],
];

const hex = (b) =>
  b instanceof ArrayBuffer ? Buffer.from(b).toString("hex") : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

const encoder = new Encoder();
const lines = packets.map(([name, packet]) => {
  const [text, ...attachments] = encoder.encode(packet);
  return JSON.stringify({ name, text, attachments: attachments.map(hex) });
});
process.stdout.write("[\n" + lines.join(",\n") + "\n]\n");
