// sio-v2-client.mjs drives the real socket.io-client 2.x (the npm alias
// socket.io-client-v2: Engine.IO v3, Socket.IO protocol v4) against a server
// with allowEIO3, for the Go tests in sio_v2_test.go. The same script runs
// against gosio and against a Node socket.io 4.8 server (js/sio-v2-node-server.mjs).
//
//   node js/sio-v2-client.mjs <url> <scenario> [key=value ...]
//
// Options:
//   mode=polling|websocket|upgrade  transports ["polling"], ["websocket"], or
//                                    both with the upgrade awaited; default websocket;
//                                    a "-b64" suffix sets forceBase64 (binary as
//                                    base64 text, the b64 query parameter)
//   timeout=MS                      watchdog (default 10000)
//
// Scenarios (the server implements the events they use):
//   features    "/" and "/custom?token=abc" on one connection: ids, the
//               namespace query, events with acks both ways, binary both
//               ways, heartbeats, client disconnect
//   reject      middleware refusals (message, data) and an unknown namespace
//   rooms       three clients: join, broadcast to a room except the sender
//   disconnect  the server disconnects the socket; the reason the client sees
//   reconnect   the server closes the connection; the client reconnects
//   refused     the server refuses EIO=3: the client's connect_error
//
// The script prints one JSON object per line; Buffers are {"$buf":"<hex>"}.
// It ends with {"ev":"done"} and status 0, or {"ev":"fail","why":...} and 1.

import io from "socket.io-client-v2";

const [url, scenario, ...rest] = process.argv.slice(2);
if (!url || !scenario) {
  console.error("usage: node sio-v2-client.mjs <url> <scenario> [key=value ...]");
  process.exit(2);
}
const opt = Object.fromEntries(rest.map((kv) => kv.split(/=(.*)/s, 2)));
const b64 = (opt.mode ?? "").endsWith("-b64");
const mode = (opt.mode ?? "websocket").replace(/-b64$/, "");
const timeoutMs = Number(opt.timeout ?? 10000);

const t0 = Date.now();
const enc = (v) => {
  if (Buffer.isBuffer(v)) return { $buf: v.toString("hex") };
  if (Array.isArray(v)) return v.map(enc);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)]));
  return v;
};
const out = (obj) => process.stdout.write(JSON.stringify({ ...enc(obj), t: Date.now() - t0 }) + "\n");
const sockets = [];
function fail(why) {
  out({ ev: "fail", why: String(why?.stack ?? why) });
  process.exit(1);
}
process.on("unhandledRejection", fail);
process.on("uncaughtException", fail);
setTimeout(() => fail(`timeout after ${timeoutMs}ms in scenario ${scenario}`), timeoutMs).unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const once = (em, ev) => new Promise((r) => em.once(ev, (...a) => r(a)));
const ack = (s, ...args) => new Promise((r) => s.emit(...args, (...res) => r(res)));

function connectOpts(extra = {}) {
  const transports = mode === "polling" ? ["polling"] : mode === "websocket" ? ["websocket"] : ["polling", "websocket"];
  return { transports, forceNew: true, reconnection: false, forceBase64: b64, ...extra };
}

function open(path, extra) {
  const s = io(url + path, connectOpts(extra));
  sockets.push(s);
  return s;
}

// connected waits for the socket's connect (and, in upgrade mode, for the
// transport to be WebSocket) and prints it.
async function connected(s, name) {
  await once(s, "connect");
  const engine = s.io.engine;
  if (mode === "upgrade" && engine.transport.name !== "websocket") await once(engine, "upgrade");
  out({ ev: "connected", name, id: s.id, engine: engine.id, transport: engine.transport.name });
}

async function features() {
  const main = open("/");
  main.on("hello", (...args) => out({ ev: "event", ns: "/", name: "hello", args }));
  main.on("question", (a, b, cb) => {
    out({ ev: "event", ns: "/", name: "question", args: [a, b] });
    cb("answer", Buffer.from([4, 2]));
  });
  let pongs = 0;
  main.io.on("pong", () => pongs++);
  await connected(main, "main");

  const custom = main.io.socket("/custom", { query: "token=abc&n=1" });
  sockets.push(custom);
  const auth = new Promise((r) => custom.once("auth", (a) => r(a)));
  await connected(custom, "custom");
  out({ ev: "event", ns: "/custom", name: "auth", args: [await auth] });

  out({ ev: "ack", name: "echo", args: await ack(main, "echo", 1, "two", { a: [true, null] }, "héllo 😀") });
  out({ ev: "ack", name: "bin", args: await ack(main, "bin", Buffer.from([1, 2, 3]), { nested: Buffer.from([0xff]) }) });
  out({ ev: "ack", name: "ask", args: await ack(main, "ask") });
  out({ ev: "ack", name: "custom-echo", args: await ack(custom, "echo", "on custom") });

  await sleep(Number(opt.hold ?? 0));
  out({ ev: "pongs", count: pongs, transport: main.io.engine.transport.name });

  custom.disconnect();
  await sleep(100);
  main.disconnect(); // the last socket: the client closes the connection
}

async function reject() {
  for (const path of ["/private", "/data", "/nothere"]) {
    const s = open(path);
    const [err] = await once(s, "error");
    out({ ev: "error", path, err });
    s.close();
  }
}

async function rooms() {
  const names = ["a", "b", "c"];
  const socks = names.map(() => open("/"));
  await Promise.all(socks.map((s, i) => connected(s, names[i])));
  const got = [];
  socks.forEach((s, i) => s.on("shout", (...args) => got.push({ who: names[i], args })));
  out({ ev: "ack", name: "join-a", args: await ack(socks[0], "join", "room1") });
  out({ ev: "ack", name: "join-b", args: await ack(socks[1], "join", "room1") });
  out({ ev: "ack", name: "shout", args: await ack(socks[0], "shout", "room1", "hi", Buffer.from([7])) });
  out({ ev: "ack", name: "all", args: await ack(socks[2], "shout", "", "everyone") });
  await sleep(300);
  for (const g of got) out({ ev: "got", ...g });
}

async function disconnect() {
  for (const how of ["disconnect", "disconnect-close"]) {
    const s = open("/");
    await connected(s, how);
    const reason = once(s, "disconnect");
    s.emit("drop-me", how);
    out({ ev: "disconnect", how, reason: (await reason)[0] });
  }
}

async function reconnect() {
  const s = open("/", { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
  await connected(s, "first");
  const reason = once(s, "disconnect");
  s.emit("drop-me", "close-conn");
  out({ ev: "disconnect", reason: (await reason)[0] });
  const [attempt] = await once(s, "reconnect");
  out({ ev: "reconnect", attempt });
  if (!s.connected) await once(s, "connect");
  out({ ev: "connected", name: "again", id: s.id, engine: s.io.engine.id, transport: s.io.engine.transport.name });
  out({ ev: "ack", name: "hello-again", args: await ack(s, "hello-again") });
}

async function refused() {
  const s = open("/");
  const [err] = await once(s, "connect_error");
  out({ ev: "connect_error", message: String(err?.message ?? err), description: String(err?.description ?? "") });
}

const scenarios = { features, reject, rooms, disconnect, reconnect, refused };
if (!scenarios[scenario]) fail(`unknown scenario ${scenario}`);
await scenarios[scenario]();
for (const s of sockets) s.close();
out({ ev: "done" });
process.exit(0);
