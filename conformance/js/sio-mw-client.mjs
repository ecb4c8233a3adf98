// sio-mw-client.mjs connects a real socket.io-client 4.8 to each namespace
// of js/sio-mw-node-server.mjs (or gosio's server with the same namespaces)
// and records what the client sees, for sio_middleware_compare_test.go.
//
//   node js/sio-mw-client.mjs <url> [timeout=MS]
//
// For each namespace it prints
// {"ev":"case","nsp":...,"packets":[...],"events":[...]}
// where packets are the Socket.IO packets that arrived (the data of the
// Engine.IO message packets), in order, with the payload of a CONNECT
// replaced by "<sid>", and events what the
// socket emitted: "connect", "connect_error: <message>", "disconnect:
// <reason>" and "<event> <JSON args>". The client acknowledges "early" with
// its argument times 6. After the connect (or its failure) each connection
// waits for its namespace's last event (at most 3 s), then 100 ms for
// anything that may follow. It ends with {"ev":"done"}.

import { Manager } from "socket.io-client";

const [url, ...rest] = process.argv.slice(2);
if (!url) {
  console.error("usage: node sio-mw-client.mjs <url> [timeout=MS]");
  process.exit(2);
}
const opt = Object.fromEntries(rest.map((kv) => kv.split(/=(.*)/s, 2)));
const timeoutMs = Number(opt.timeout ?? 20000);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
function fail(why) {
  out({ ev: "fail", why: String(why?.stack ?? why) });
  process.exit(1);
}
process.on("unhandledRejection", fail);
process.on("uncaughtException", fail);
setTimeout(() => fail(`timeout after ${timeoutMs}ms`), timeoutMs).unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run(nsp, last) {
  const packets = [];
  const events = [];
  const manager = new Manager(url, { transports: ["websocket"], forceNew: true, reconnection: false, timeout: 5000 });
  manager.on("open", () =>
    manager.engine.on("packet", (p) => {
      if (p.type === "message") packets.push(String(p.data).replace(/^(0[^{]*)\{.*\}$/s, "$1<sid>"));
    }),
  );
  const sock = manager.socket(nsp);
  const settled = new Promise((resolve) => {
    sock.on("connect", () => (events.push("connect"), resolve()));
    sock.on("connect_error", (e) => (events.push(`connect_error: ${e.message}`), resolve()));
  });
  sock.on("disconnect", (reason) => events.push(`disconnect: ${reason}`));
  let lastSeen;
  const final = new Promise((resolve) => (lastSeen = resolve));
  sock.onAny((ev, ...args) => {
    const ack = typeof args.at(-1) === "function" ? args.pop() : null;
    events.push(`${ev} ${JSON.stringify(args)}`);
    if (ack) ack(args[0] * 6);
    if (ev === last) lastSeen();
  });
  await Promise.race([settled, sleep(5000).then(() => events.push("no answer"))]);
  await Promise.race([final, sleep(3000)]);
  await sleep(100);
  out({ ev: "case", nsp, packets, events });
  const closed = new Promise((resolve) =>
    !manager.engine || manager.engine.readyState === "closed" ? resolve() : manager.engine.once("close", resolve),
  );
  sock.disconnect();
  manager.engine?.close();
  await closed;
}

const cases = [
  ["/mw-state", "state"],
  ["/mw-disconnect", "state"],
  ["/mw-close", "state"],
  ["/mw-ack", "acked"],
  ["/mw-join", "rooms"],
];
for (const [nsp, last] of cases) await run(nsp, last);
out({ ev: "done" });
process.exit(0);
