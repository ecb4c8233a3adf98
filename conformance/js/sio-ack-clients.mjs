// sio-ack-clients.mjs runs the broadcast-with-ack and serverSideEmit cases
// of sio_compare_test.go against a server implementing the "/ctl" events of
// js/sio-node-server.mjs: the real Node socket.io server, or gosio's.
//
//   node js/sio-ack-clients.mjs <url> [timeout=MS]
//
// For each case it connects the case's clients to "/" (each its own
// connection, over WebSocket), some of which never answer the "q" event
// or leaves the namespace when it gets it, asks "/ctl" to broadcast with an
// ack, and prints
// {"ev":"result","case":...,"timeout":MS|null,"reply":<the server's reply>,"received":N}
// where received counts the clients that got "q". Then the serverSideEmit
// cases print {"ev":"sse",...}. It ends with {"ev":"done"}.

import { Manager } from "socket.io-client";

const [url, ...rest] = process.argv.slice(2);
if (!url) {
  console.error("usage: node sio-ack-clients.mjs <url> [timeout=MS]");
  process.exit(2);
}
const opt = Object.fromEntries(rest.map((kv) => kv.split(/=(.*)/s, 2)));
const timeoutMs = Number(opt.timeout ?? 20000);
const t0 = Date.now();
const out = (obj) => process.stdout.write(JSON.stringify({ ...obj, t: Date.now() - t0 }) + "\n");
function fail(why) {
  out({ ev: "fail", why: String(why?.stack ?? why) });
  process.exit(1);
}
process.on("unhandledRejection", fail);
process.on("uncaughtException", fail);
setTimeout(() => fail(`timeout after ${timeoutMs}ms`), timeoutMs).unref();

const opts = { transports: ["websocket"], forceNew: true, reconnection: false, timeout: 5000 };

function connected(sock) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${sock.nsp}: no connect`)), 5000);
    sock.once("connect", () => (clearTimeout(timer), resolve()));
    sock.once("connect_error", (e) => (clearTimeout(timer), reject(e)));
  });
}
function call(sock, ev, arg) {
  return new Promise((resolve, reject) =>
    sock.timeout(10000).emit(ev, arg, (err, res) => (err ? reject(new Error(`${ev}: ${err.message}`)) : resolve(res))),
  );
}
async function close(socks) {
  const closes = socks.map(
    (s) => new Promise((resolve) => (s.io.engine.readyState === "closed" ? resolve() : s.io.engine.once("close", resolve))),
  );
  for (const s of socks) s.disconnect();
  await Promise.all(closes);
}

const cases = [
  { name: "zero", clients: 0, silent: 0, timeout: 1000 },
  { name: "one", clients: 1, silent: 0, timeout: 5000 },
  { name: "one-silent", clients: 1, silent: 1, timeout: 600 },
  { name: "many", clients: 3, silent: 0, timeout: 5000 },
  { name: "many-one-silent", clients: 3, silent: 1, timeout: 600 },
  { name: "many-one-disconnects", clients: 3, leaver: true, timeout: 1500 },
  { name: "zero-no-timeout", clients: 0, silent: 0, timeout: null },
  { name: "one-no-timeout", clients: 1, silent: 0, timeout: null },
  { name: "many-no-timeout", clients: 3, silent: 0, timeout: null },
];

const ctl = new Manager(url, opts).socket("/ctl");
await connected(ctl);
for (const c of cases) {
  let received = 0;
  const socks = [];
  for (let i = 0; i < c.clients; i++) {
    const s = new Manager(url, opts).socket("/");
    const silent = i >= c.clients - (c.silent ?? 0);
    const leaver = c.leaver && i === c.clients - 1;
    s.on("q", (arg, cb) => {
      received++;
      if (leaver) s.disconnect(); // leaves without answering
      else if (!silent) cb({ from: i, arg }, "second argument");
    });
    socks.push(s);
  }
  await Promise.all(socks.map(connected));
  const reply = await call(ctl, "bwa", { expect: c.clients, timeout: c.timeout });
  out({ ev: "result", case: c.name, timeout: c.timeout, reply, received });
  await close(socks);
}
for (const [name, ev, arg] of [
  ["serverSideEmit", "sse", { event: "ping" }],
  ["serverSideEmit-reserved", "sse", { event: "connect" }],
  ["serverSideEmitWithAck", "ssewa", { event: "ping", wait: 1000 }],
]) {
  out({ ev: "sse", case: name, reply: await call(ctl, ev, arg) });
}
await close([ctl]);
out({ ev: "done" });
process.exit(0);
