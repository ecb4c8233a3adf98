// msgpack-client.mjs drives the real socket.io-client with the real
// socket.io-msgpack-parser against gosio's server for
// msgpack_parser_test.go (TestMsgpackParserNodeClient).
//
//   node js/msgpack-client.mjs <url> [mode=polling|websocket|upgrade] [timeout=MS]
//
// The Go server implements the events used below. The script checks what
// it receives itself (Buffers must arrive as Buffers) and prints one JSON
// object per line; binary is written as {"$buf":"<hex>"}. It ends with
// {"ev":"done"} and status 0, or {"ev":"fail","why":...} and status 1.

import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";
import { Manager, io } from "socket.io-client";

const require = createRequire(import.meta.url);
const parser = require("socket.io-msgpack-parser");

const [url, ...rest] = process.argv.slice(2);
const opt = Object.fromEntries(rest.map((kv) => kv.split(/=(.*)/s, 2)));
const mode = opt.mode ?? "websocket";
const timeoutMs = Number(opt.timeout ?? 15000);
const t0 = Date.now();
const show = (v) =>
  JSON.parse(JSON.stringify(v, (k, x) => (x && x.type === "Buffer" && Array.isArray(x.data) ? { $buf: Buffer.from(x.data).toString("hex") } : x)));
const out = (obj) => process.stdout.write(JSON.stringify({ ...show(obj), t: Date.now() - t0 }) + "\n");
const managers = [];
function fail(why) {
  out({ ev: "fail", why: String(why?.stack ?? why) });
  process.exit(1);
}
process.on("unhandledRejection", fail);
process.on("uncaughtException", fail);
setTimeout(() => fail(`timeout after ${timeoutMs}ms`), timeoutMs).unref();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const transports = { polling: ["polling"], websocket: ["websocket"], upgrade: ["polling", "websocket"] }[mode];
if (!transports) fail(`unknown mode ${mode}`);

function check(what, got, want) {
  if (!isDeepStrictEqual(got, want)) fail(`${what}: got ${JSON.stringify(show(got))}, want ${JSON.stringify(show(want))}`);
  out({ ev: "check", what });
}
function checkBuffer(what, v, hex) {
  if (!Buffer.isBuffer(v)) fail(`${what}: not a Buffer: ${Object.prototype.toString.call(v)} ${JSON.stringify(v)}`);
  check(what, v.toString("hex"), hex);
}

function manager() {
  const m = new Manager(url, { transports, parser, reconnection: false, timeout: 5000 });
  managers.push(m);
  return m;
}
function connected(s) {
  return new Promise((resolve, reject) => {
    s.once("connect", resolve);
    s.once("connect_error", reject);
  });
}
async function upgraded(s) {
  if (mode !== "upgrade") return;
  const engine = s.io.engine;
  if (engine.transport.name === "websocket") return;
  await new Promise((r) => engine.once("upgrade", r));
}
// ack emits ev and resolves with every argument of the acknowledgement.
function ack(s, ev, ...args) {
  return new Promise((r) => s.emit(ev, ...args, (...res) => r(res)));
}
function next(s, ev) {
  return new Promise((r) => s.once(ev, (...args) => r(args)));
}

// connect_error from the middleware, with its data.
{
  const bad = io(url, { transports, parser, reconnection: false, forceNew: true, auth: { token: "wrong" } });
  const err = await new Promise((r) => bad.once("connect_error", r));
  check("connect_error message", err.message, "not authorized");
  check("connect_error data", err.data, { code: 42, why: "bad token" });
  bad.close();
}

const m1 = manager();
const s1 = m1.socket("/", { auth: { token: "secret", n: 7, nested: { list: [1, "two"] } } });
const welcome = next(s1, "welcome");
await connected(s1);
await upgraded(s1);
out({ ev: "connected", id: s1.id, transport: m1.engine.transport.name });

{
  const [auth, bin] = await welcome;
  check("welcome auth", auth, { token: "secret", n: 7, nested: { list: [1, "two"] } });
  checkBuffer("welcome binary", bin, "010203");
}

// Events and acks with strings, numbers, nested objects and binary.
{
  const args = ["str", 42, 3.5, -1, 2 ** 40, true, null, { a: { b: [1, "x", { c: Buffer.from([0xca, 0xfe]) }] } }, Buffer.from([0, 255])];
  const back = next(s1, "echo-back");
  const acked = await ack(s1, "echo", ...args);
  check("echo ack", acked, args);
  checkBuffer("echo ack buffer", acked[8], "00ff");
  checkBuffer("echo ack nested buffer", acked[7].a.b[2].c, "cafe");
  check("echo-back", await back, args);
}
check("types", await s1.emitWithAck("types", "s", 1, { n: { m: [true] } }, Buffer.from("bin")), "ok");

// The server asks, the client answers.
s1.on("question", (bin, obj, cb) => {
  checkBuffer("question binary", bin, "090807");
  check("question object", obj, { q: 41 });
  cb("answer", Buffer.from([7]));
});
check("ask-me", await s1.emitWithAck("ask-me"), { answer: "answer", bin: Buffer.from([7]) });

// A second namespace on the same connection.
const admin = m1.socket("/admin", { auth: { token: "secret" } });
await connected(admin);
check("whoami", await ack(admin, "whoami", Buffer.from([1])), ["/admin", 1]);

// A room broadcast to several clients.
const m2 = manager();
const s2 = m2.socket("/", { auth: { token: "secret" } });
const m3 = manager();
const s3 = m3.socket("/", { auth: { token: "secret" } });
await Promise.all([connected(s2), connected(s3)]);
await Promise.all([upgraded(s2), upgraded(s3)]);
check("join s1", await s1.emitWithAck("join", "r1"), "joined");
check("join s2", await s2.emitWithAck("join", "r1"), "joined");
let s3news = 0;
s3.on("news", () => s3news++);
const n1 = next(s1, "news");
const n2 = next(s2, "news");
check("shout", await s3.emitWithAck("shout", "r1"), 2);
for (const [name, p] of [["s1", n1], ["s2", n2]]) {
  const [text, bin, obj] = await p;
  check(`news ${name} text`, text, "hello room");
  checkBuffer(`news ${name} binary`, bin, "05");
  check(`news ${name} object`, obj, { from: s3.id });
}
await sleep(200);
check("s3 outside the room got nothing", s3news, 0);

// Disconnections: by the server, and by the client.
const kicked = next(admin, "disconnect");
admin.emit("kick-me");
check("server disconnect reason", (await kicked)[0], "io server disconnect");
const s2id = s2.id;
s2.disconnect();
out({ ev: "s2-disconnected", id: s2id });
check("still connected after the others left", await ack(s1, "echo", "last"), ["last"]);


for (const s of [s1, s3]) s.disconnect();
await sleep(50);
out({ ev: "done" });
process.exit(0);
