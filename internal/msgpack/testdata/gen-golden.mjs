// gen-golden.mjs writes golden.json: what notepack.io 3.0.1 and
// @msgpack/msgpack 2.8.0 really encode and decode, for the Go tests of
// internal/msgpack (which do not need Node).
//
// Regenerate (Node 20, with the conformance peers installed) from the repo root:
//
//	cd conformance && node ../internal/msgpack/testdata/gen-golden.mjs
//
// The libraries are loaded from the current directory's node_modules.
// Everything is deterministic (a fixed PRNG seed), so rerunning gives the
// same file.

import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const require = createRequire(process.cwd() + "/");
const notepack = require("notepack.io");
const msgpack = require("@msgpack/msgpack");
const sioParser = require("socket.io-parser");

const libs = {
  notepack: { encode: (v) => notepack.encode(v), decode: (b) => notepack.decode(b) },
  msgpackjs: { encode: (v) => Buffer.from(msgpack.encode(v)), decode: (b) => msgpack.decode(b) },
};

const hex = (b) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString("hex");

// Deterministic PRNG (mulberry32).
let seed = 0x9e3779b9;
function rand() {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

// toSocketIO returns what socket.io-parser's Encoder writes for value as
// an element of an EVENT's data: the JSON text of the element and the
// attachments, in order.
function toSocketIO(value) {
  const enc = new sioParser.Encoder();
  const [text, ...buffers] = enc.encode({ type: sioParser.PacketType.EVENT, nsp: "/", data: ["x", value] });
  const arr = text.slice(text.indexOf("["));
  const prefix = '["x",';
  if (!arr.startsWith(prefix) || !arr.endsWith("]")) throw new Error("unexpected packet " + text);
  return { json: arr.slice(prefix.length, -1), atts: buffers.map(hex) };
}

// fromSocketIO returns the value socket.io-parser's Decoder gives for the
// element JSON text json with the attachments atts (hex).
function fromSocketIO(json, atts) {
  const dec = new sioParser.Decoder();
  let out;
  dec.on("decoded", (p) => (out = p.data[1]));
  const body = `["x",${json}]`;
  dec.add(atts.length ? `5${atts.length}-${body}` : `2${body}`);
  for (const a of atts) dec.add(Buffer.from(a, "hex"));
  return out;
}

function bits(x) {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return b.toString("hex");
}

// Large inputs are described by a generator the Go test repeats.
function gen(g) {
  switch (g.kind) {
    case "str":
      return Array.from({ length: g.n }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
    case "bin":
      return Buffer.from(Array.from({ length: g.n }, (_, i) => i % 256));
    case "arr":
      return new Array(g.n).fill(0);
    case "map": {
      const o = {};
      for (let i = 0; i < g.n; i++) o["k" + i] = i;
      return o;
    }
  }
  throw new Error("bad gen");
}

function run(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
}

const BIG = 4096; // encodings longer than this are stored as length + sha256
import { createHash } from "node:crypto";
function storeBytes(b) {
  if (b.length <= BIG) return hex(b);
  return { len: b.length, sha256: createHash("sha256").update(b).digest("hex") };
}

// ---------------------------------------------------------------- encode
// Each case: a JSON element text (and attachments), as Go gets it, or a
// gen descriptor. The value encoded is what socket.io-parser decodes from
// that text, i.e. what a Node server would broadcast.
const encodeCases = [];
function enc(name, json, atts = [], extra = {}) {
  encodeCases.push({ name, json, atts, ...extra });
}
function encValue(name, value, extra = {}) {
  const { json, atts } = toSocketIO(value);
  enc(name, json, atts, extra);
}

// numbers
for (const [name, v] of [
  ["0", 0], ["1", 1], ["-1", -1], ["127", 127], ["128", 128], ["255", 255], ["256", 256],
  ["65535", 65535], ["65536", 65536], ["-32", -32], ["-33", -33], ["-128", -128], ["-129", -129],
  ["-32768", -32768], ["-32769", -32769], ["2^31-1", 2 ** 31 - 1], ["2^31", 2 ** 31], ["-2^31", -(2 ** 31)],
  ["-2^31-1", -(2 ** 31) - 1], ["2^32-1", 2 ** 32 - 1], ["2^32", 2 ** 32], ["-2^32", -(2 ** 32)],
  ["2^53-1", 2 ** 53 - 1], ["2^53", 2 ** 53], ["2^53+2", 2 ** 53 + 2], ["-2^53+1", -(2 ** 53) + 1], ["-2^53", -(2 ** 53)],
  ["2^63", 2 ** 63], ["-2^63", -(2 ** 63)], ["-2^63-4096", -(2 ** 63) - 4096], ["2^64-2048", 2 ** 64 - 2048],
  ["2^64", 2 ** 64], ["3*2^64", 3 * 2 ** 64], ["-2^64", -(2 ** 64)], ["1e20", 1e20], ["-1e20", -1e20],
  ["1e21", 1e21], ["1e300", 1e300], ["-1e300", -1e300], ["max", Number.MAX_VALUE], ["1.5", 1.5], ["-1.5", -1.5],
  ["0.1", 0.1], ["1e-7", 1e-7], ["5e-324", 5e-324], ["pi", Math.PI],
]) encValue("num/" + name, v);
for (const t of ["-0", "-0.0", "1.0", "1E2", "0.5e1", "1e400", "-1e400", "1e-400", "123456789012345678901234567890",
  "18446744073709551616", "0.30000000000000004", "100000000000000000000000", "-9007199254740993"])
  enc("numtext/" + t, t);

// strings
for (const [name, v] of [
  ["empty", ""], ["a", "a"], ["unicode", "héllo wörld ñ"], ["cjk", "日本語テキスト"], ["emoji", "😀👍🏽"],
  ["mixed", "a\u0000b\u001fc\u007fd\u0080e\u07ff\u0800\uffff"], ["escapes", "\"\\/\b\f\n\r\t\u0001"],
  ["html", "<script>&amp;</script>\u2028\u2029"],
  ["bom", "\ufeffBOM"],
]) encValue("str/" + name, v);
for (const n of [31, 32, 33, 255, 256, 65535, 65536]) enc("str/len" + n, null, [], { gen: { kind: "str", n } });
enc("str/unicode-len40", JSON.stringify("é".repeat(40)));
enc("str/pair-escaped", '"\\ud83d\\ude00"');
enc("str/escaped-ascii", '"\\u0041\\u00e9\\/"');
// Lone surrogates: the libraries differ from U+FFFD for short strings (see
// doc.go); "goHex" says what Go writes.
enc("str/lone-high-short", '"\\ud800a"', [], { divergent: true });
enc("str/lone-low-short", '"a\\udc00"', [], { divergent: true });
enc("str/lone-high-long", JSON.stringify("x".repeat(250)).slice(0, -1) + '\\ud800"');
// raw ill-formed UTF-8 inside JSON text: not producible from JS; Go-only test.

// arrays and objects
encValue("arr/empty", []);
encValue("arr/small", [1, "two", true, false, null, 1.5]);
for (const n of [15, 16, 65535, 65536]) enc("arr/len" + n, null, [], { gen: { kind: "arr", n } });
encValue("arr/nested", [[[[]]], [[1], [2, [3]]]]);
let deep = [];
for (let i = 0; i < 50; i++) deep = [deep];
encValue("arr/deep50", deep);
encValue("obj/empty", {});
encValue("obj/small", { a: 1, b: [true, false, null], c: { d: "e" } });
enc("obj/order", '{"b":1,"a":2,"c":3}');
enc("obj/index-keys", '{"b":1,"2":2,"1":3,"01":4,"4294967294":5,"4294967295":6,"-1":7}');
enc("obj/dup-keys", '{"a":1,"b":2,"a":3}');
enc("obj/dup-escaped", '{"a":1,"\\u0061":2}');
enc("obj/proto", '{"__proto__":1,"a":2}');
enc("obj/proto-obj", '{"__proto__":{"x":1},"a":2}');
for (const n of [15, 16, 65536]) enc("obj/len" + n, null, [], { gen: { kind: "map", n } });
enc("obj/spaces", ' { "a" : [ 1 , 2 ] , "b" : { } } ');
enc("obj/placeholder-no-atts", '{"_placeholder":true,"num":0}');

// binary
for (const n of [0, 1, 255, 256]) encValue("bin/len" + n, gen({ kind: "bin", n }));
for (const n of [65535, 65536]) enc("bin/len" + n, null, [], { gen: { kind: "bin", n } });
encValue("bin/nested", { a: [Buffer.from([1, 2]), { b: Buffer.from([3]) }], c: Buffer.alloc(0) });
encValue("bin/two", [Buffer.from("hello"), Buffer.from("world")]);
enc("bin/placeholder-extra-keys", '{"x":1,"_placeholder":true,"num":0}', ["0102"]);
enc("bin/placeholder-num-float", '{"_placeholder":true,"num":1.0}', ["01", "02"]);
enc("bin/placeholder-reversed", '[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]', ["01", "02"]);
enc("bin/placeholder-nested-invalid", '{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}', ["01"]);
enc("bin/placeholder-not-true", '{"_placeholder":1,"num":0}', ["01"]);
enc("bin/placeholder-dup-key", '{"_placeholder":true,"num":5,"num":0}', ["01"]);
enc("bin/placeholder-index-keys", '{"b":{"_placeholder":true,"num":0},"1":{"_placeholder":true,"num":1}}', ["01", "02"]);

// real adapter messages
enc("msg/classic-broadcast", '["9pwXhb",{"type":2,"data":["ev",1,"two",{"three":true}],"nsp":"/"},{"rooms":[],"except":[],"flags":{}}]');
encValue("msg/classic-broadcast-bin", ["9pwXhb", { type: 5, data: ["ev", Buffer.from([1, 2, 3]), { b: Buffer.from("x") }], nsp: "/", attachments: 2 }, { rooms: ["r1", "r2"], except: ["s1"], flags: { volatile: true, timeout: 5000 } }]);
enc("msg/cluster-broadcast", '{"uid":"abc123","nsp":"/","type":3,"data":{"packet":{"type":2,"data":["hello",{"n":1.5}],"nsp":"/"},"opts":{"rooms":["room1"],"except":[],"flags":{"local":false}}}}');
enc("msg/fetch-sockets-response", '{"uid":"n2","type":4,"data":{"requestId":"r-1","sockets":[{"id":"s1","handshake":{"headers":{"host":"x"},"time":"Mon","address":"::1","xdomain":false,"secure":false,"issued":1700000000000,"url":"/socket.io/?EIO=4","query":{"EIO":"4"},"auth":{}},"rooms":["s1","a"],"data":{"user":{"id":42}}}]}}');

// -------------------------------------------------------------- JS values
// Encoded by both libraries for decoding tests only (no JSON form).
const valueCases = [
  ["date/epoch", new Date(0)],
  ["date/seconds", new Date(1700000000000)],
  ["date/millis", new Date(1700000000123)],
  ["date/negative", new Date(-1)],
  ["date/negative-big", new Date(-62198755200000)],
  ["date/year-1", new Date(-62198755200001 - 31536000000)],
  ["date/2106", new Date(4294967296000)],
  ["date/ts64-max", new Date(17179869183999)],
  ["date/ts96", new Date(17179869184000)],
  ["date/max", new Date(8.64e15)],
  ["date/min", new Date(-8.64e15)],
  ["date/year10000", new Date(253402300800000)],
  ["date/invalid", new Date(NaN)],
  ["date/in-array", [new Date(1), { d: new Date(2) }]],
  ["undefined/in-object", { a: undefined, b: 1 }],
  ["undefined/in-array", [undefined, 1]],
  ["nan", NaN],
  ["inf", Infinity],
  ["-inf", -Infinity],
  ["-0", -0],
  ["arraybuffer", new Uint8Array([1, 2, 3]).buffer],
  ["float64array", new Float64Array([1.5])],
];

// ----------------------------------------------------------------- decode
const decodeCases = [];
function dec(name, h, extra = {}) {
  decodeCases.push({ name, hex: h, ...extra });
}
dec("reserved-c1", "c1");
dec("empty-input", "");
dec("trailing-bytes", "0101");
dec("truncated-str", "a3 41 42".replace(/ /g, ""));
dec("truncated-array", "930102");
dec("truncated-uint32", "ce 00 01".replace(/ /g, ""));
dec("huge-array-count", "dd ff ff ff ff".replace(/ /g, ""));
dec("float32-1", "ca3f800000");
dec("float32-0.1", "ca3dcccccd");
dec("float32-nan", "ca7fc00000");
dec("uint64-max", "cfffffffffffffffff");
dec("uint64-2^53+1", "cf0020000000000001");
dec("int64-min", "d38000000000000000");
dec("int64-neg-small", "d3ffffffffffffffff");
dec("int8-in-d0-positive", "d07f");
dec("uint8-small", "cc05");
dec("float64-nan", "cb7ff8000000000000");
dec("float64-inf", "cb7ff0000000000000");
dec("float64-neginf", "cbfff0000000000000");
dec("float64-neg0", "cb8000000000000000");
dec("float64-1e21", "cb" + bits(1e21));
dec("float64-1e-7", "cb" + bits(1e-7));
dec("float64-123e-20", "cb" + bits(123e-20));
dec("str8-short", "d90141");
dec("str16-empty", "da0000");
dec("str32-a", "db0000000161");
dec("bin16-empty", "c50000");
dec("bin32-2", "c6000000020102");
dec("map16-empty", "de0000");
dec("array32-empty", "dd00000000");
dec("map32-one", "df00000001a161c3");
dec("array16-two", "dc00020102");
// ext
dec("fixext1-type5", "d40501");
dec("fixext1-type0-undefined", "d40000");
dec("fixext1-type0-in-array", "92d4000001");
dec("fixext1-type0-in-map", "82a161d40000a16201");
dec("fixext1-type-1", "d4ff00");
dec("fixext2", "d5050102");
dec("fixext4-type5", "d60501020304");
dec("fixext4-type0", "d60001020304");
dec("fixext8-type5", "d7050102030405060708");
dec("fixext8-type0-legacy-date", "d70000000000000003e8");
dec("fixext16", "d805" + "00".repeat(16));
dec("ext8-type5", "c70305010203");
dec("ext8-type0-arraybuffer", "c70300010203");
dec("ext8-empty-type7", "c70007");
dec("ext16-type5", "c8000305010203");
dec("ext16-type0", "c8000300010203");
dec("ext32-type5", "c900000003050102 03".replace(/ /g, ""));
dec("ext32-type0", "c9000000030001020 3".replace(/ /g, ""));
dec("ts32-zero", "d6ff00000000");
dec("ts32-max", "d6ffffffffff");
dec("ts64-ns", "d7ff" + "00000004" + "00000001");
dec("ts64-big-ns", "d7ff" + "ee6b27fc" + "00000001"); // nsec 999999999 <<2
dec("ts64-overflow-ns", "d7ff" + "fffffffc" + "00000000"); // nsec 2^30-1 > 1e9
dec("ts96-negative", "c70cff" + "00000000" + "ffffffffffffffff");
dec("ts96-ns", "c70cff" + "000f4240" + "0000000000000001");
dec("ts96-huge", "c70cff" + "00000000" + "7fffffffffffffff");
dec("ts96-out-of-range", "c70cff" + "00000000" + "000000e8d4a51001");
dec("ts96-edge-max", "c70cff" + "00000000" + "000000e8d4a51000");
dec("ts-ext8-len5", "c705ff0000000000");
dec("ts-ext16-len12", "c8000cff" + "00000000" + "0000000000000001");
dec("ts-ext16-len4", "c80004ff00000001");
dec("ts-fixext16", "d8ff" + "00".repeat(16));
dec("ts-in-map-key", "81d6ff0000000001");
// strings
dec("utf8-truncated-3byte", "a3e28241");
dec("utf8-surrogate", "a3eda080");
dec("utf8-overlong", "a2c0af");
dec("utf8-above-max", "a4f4908080");
dec("utf8-lone-cont", "a280bf");
dec("utf8-truncated-at-end", "a241e2");
dec("utf8-lenient-lookahead", "92a241e2" + "01");
dec("utf8-lenient-past-input", "a241f0");
dec("utf8-bad-long", "d9ff" + "41".repeat(200) + "e28241" + "42".repeat(52));
dec("utf8-bom-short", "a4efbbbf41");
dec("utf8-bom-long", "d9cc" + "efbbbf" + "41".repeat(201));
dec("utf8-valid-4byte", "a4f09f9880");
dec("str-controls", "a5" + "00081f227f");
// maps
dec("map-int-keys", "8201a161a16202");
dec("map-index-reorder", "82a16201a13102");
dec("map-index-desc", "82a13201a13102");
dec("map-not-index-4294967295", "82aa34323934393637323935c0a13102");
dec("map-dup", "83a16101a16202a16103");
dec("map-dup-undefined", "82a16101a161d40000");
dec("map-float-key", "81cb3ff800000000000001");
dec("map-neg-key", "81ff01");
dec("map-nan-key", "81cb7ff800000000000001");
dec("map-negzero-key", "81cb800000000000000001");
dec("map-big-key", "81cfffffffffffffffff01");
dec("map-nil-key", "81c001");
dec("map-bool-key", "82c301c202");
dec("map-bin-key", "81c4026b6501");
dec("map-undefined-key", "81d4000001");
dec("map-array-key", "81920102c3");
dec("map-map-key", "8180c3");
dec("map-proto-num", "82a95f5f70726f746f5f5f01a16102");
dec("map-proto-map", "82a95f5f70726f746f5f5f81a17801a16102");
dec("map-proto-nil", "81a95f5f70726f746f5f5fc0");
dec("map-proto-bin", "81a95f5f70726f746f5f5fc40101");
dec("map-bin-values-reorder", "82a162c40101a131c40102");
dec("map-many-keys-dup", "de0011" + Array.from({ length: 16 }, (_, i) => "a2" + hex(Buffer.from("k" + i.toString(16)))+ "01").join("") + "a26b3002");
dec("nested-reorder", "92" + "82a16201a13102" + "81a17882a16201a13102");
dec("deep-100", "91".repeat(100) + "c0");

// ---------------------------------------------------------------- numbers
const numbers = [];
const numList = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.5, 1e21, 1e-7, 1e-6, 123e-20, 1e20, 2 ** 53, 2 ** 64, 2 ** 70, -(2 ** 70),
  Number.MAX_VALUE, Number.MIN_VALUE, 2.2250738585072014e-308, 0.1, 0.2, 0.30000000000000004, 4.35, 5e-7, 1.5e300, 9007199254740993,
  123456789012345680000, 1.2345678901234567e21, 100, 1e100, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 63), 2 ** 63];
for (let i = 0; i < 1500; i++) {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(rand() * 2 ** 32), 0);
  b.writeUInt32BE(Math.floor(rand() * 2 ** 32), 4);
  numList.push(b.readDoubleBE(0));
}
for (let i = 0; i < 500; i++) {
  const e = Math.floor(rand() * 80) - 10;
  numList.push(Math.floor(rand() * 2 ** 53) * 2 ** e * (rand() < 0.5 ? -1 : 1));
  numList.push(Math.round(rand() * 10 ** Math.floor(rand() * 12)) / 10 ** Math.floor(rand() * 8));
}
for (const x of numList) {
  numbers.push({ bits: bits(x), str: String(x), notepack: hex(libs.notepack.encode(x)), msgpackjs: hex(libs.msgpackjs.encode(x)) });
}

const dates = [];
for (const ms of [0, -1, 1, 8.64e15, -8.64e15, -62198755200000, -62198755200001, 253402300799999, 253402300800000, -62167219200000, -62167219200001]) {
  dates.push({ ms, iso: new Date(ms).toISOString() });
}
for (let i = 0; i < 300; i++) {
  const ms = Math.floor((rand() * 2 - 1) * 8.64e15);
  dates.push({ ms, iso: new Date(ms).toISOString() });
}

// ------------------------------------------------------------------ run
function decodeWith(lib, bytes) {
  const r = run(() => toSocketIO(libs[lib].decode(bytes)));
  return r.error !== undefined ? { error: r.error } : r.ok;
}

const out = { generator: "gen-golden.mjs", node: process.version, encode: [], decode: [], numbers, dates };
for (const c of encodeCases) {
  const json = c.gen ? toSocketIO(gen(c.gen)).json : c.json;
  const atts = c.gen ? toSocketIO(gen(c.gen)).atts : c.atts;
  const value = fromSocketIO(json, atts);
  const e = { name: c.name };
  if (c.gen) e.gen = c.gen;
  else {
    e.json = json;
    e.atts = atts;
  }
  if (c.divergent) e.divergent = true;
  if (!c.gen) e.stringify = JSON.stringify(value); // what the classic adapter's JSON requests carry
  for (const lib of ["notepack", "msgpackjs"]) {
    const r = run(() => libs[lib].encode(value));
    if (r.error !== undefined) {
      e[lib] = { error: r.error };
      continue;
    }
    e[lib] = storeBytes(r.ok);
    if (!c.gen && r.ok.length <= BIG) {
      out.decode.push({ name: `enc/${c.name}/${lib}`, hex: hex(r.ok), notepack: decodeWith("notepack", r.ok), msgpackjs: decodeWith("msgpackjs", r.ok) });
    }
  }
  out.encode.push(e);
}
for (const [name, v] of valueCases) {
  for (const lib of ["notepack", "msgpackjs"]) {
    const r = run(() => libs[lib].encode(v));
    if (r.error !== undefined) {
      out.decode.push({ name: `value/${name}/${lib}`, encodeError: r.error });
      continue;
    }
    out.decode.push({ name: `value/${name}/${lib}`, hex: hex(r.ok), notepack: decodeWith("notepack", r.ok), msgpackjs: decodeWith("msgpackjs", r.ok) });
  }
}
for (const c of decodeCases) {
  const bytes = Buffer.from(c.hex, "hex");
  out.decode.push({ name: "raw/" + c.name, hex: c.hex, notepack: decodeWith("notepack", bytes), msgpackjs: decodeWith("msgpackjs", bytes) });
}

const here = dirname(fileURLToPath(import.meta.url));
writeFileSync(join(here, "golden.json"), JSON.stringify(out, null, 1) + "\n");
console.log(`wrote ${out.encode.length} encode, ${out.decode.length} decode, ${numbers.length} number, ${dates.length} date cases`);
