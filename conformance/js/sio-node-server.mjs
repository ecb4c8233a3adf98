// sio-node-server.mjs runs a real Node socket.io 4.8 server (from
// conformance/node_modules, default in-memory adapter) for the comparison
// tests in sio_compare_test.go; js/sio-ack-clients.mjs drives it exactly as
// it drives gosio's server, which implements the same "/ctl" events.
//
//   node js/sio-node-server.mjs
//
// It listens on a free port of 127.0.0.1, prints {"ev":"listening","port":N}
// and runs until its stdin closes (the Go test holds it open) or its
// watchdog fires (timeout=MS, default 60000).
//
// Namespace "/" holds the clients under test; "/ctl" answers:
//   bwa   {expect, timeout}  waits until "/" has `expect` sockets, then
//         io.timeout(timeout).emitWithAck("q", "question") (no timeout:
//         io.except([]).emitWithAck) and acks {error, responses, ms, count}
//   sse   {event}            io.serverSideEmit(event, 1): {returned, error, warnings}
//   ssewa {event, wait}      io.serverSideEmitWithAck(event, 1), awaited at
//         most `wait` ms: {settled, error, responses}

import { createServer } from "node:http";
import { Server } from "socket.io";

const opt = Object.fromEntries(process.argv.slice(2).map((kv) => kv.split(/=(.*)/s, 2)));
const timeoutMs = Number(opt.timeout ?? 60000);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
setTimeout(() => {
  out({ ev: "fail", why: `watchdog after ${timeoutMs}ms` });
  process.exit(1);
}, timeoutMs).unref();
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();

// The in-memory adapter reports serverSideEmit with console.warn: keep it.
const warnings = [];
console.warn = (...args) => warnings.push(args.join(" "));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const http = createServer();
const io = new Server(http);

async function waitCount(n) {
  const end = Date.now() + 3000;
  while (io.of("/").sockets.size !== n) {
    if (Date.now() > end) throw new Error(`namespace has ${io.of("/").sockets.size} sockets, want ${n}`);
    await sleep(10);
  }
}

io.of("/ctl").on("connection", (socket) => {
  socket.on("bwa", async (o, cb) => {
    try {
      await waitCount(o.expect);
    } catch (e) {
      return cb({ error: e.message, setup: true });
    }
    const op = o.timeout == null ? io.except([]) : io.timeout(o.timeout);
    const t0 = Date.now();
    try {
      const responses = await op.emitWithAck("q", "question");
      cb({ error: null, responses, ms: Date.now() - t0, count: o.expect });
    } catch (e) {
      cb({ error: e.message, responses: e.responses ?? null, ms: Date.now() - t0, count: o.expect });
    }
  });
  socket.on("sse", (o, cb) => {
    warnings.length = 0;
    try {
      const returned = io.serverSideEmit(o.event, 1);
      cb({ returned, error: null, warnings: [...warnings] });
    } catch (e) {
      cb({ error: e.message, warnings: [...warnings] });
    }
  });
  socket.on("ssewa", async (o, cb) => {
    warnings.length = 0;
    const pending = Symbol("pending");
    const t0 = Date.now();
    try {
      const r = await Promise.race([io.serverSideEmitWithAck(o.event, 1), sleep(o.wait).then(() => pending)]);
      if (r === pending) cb({ settled: false, ms: Date.now() - t0, warnings: [...warnings] });
      else cb({ settled: true, error: null, responses: r, ms: Date.now() - t0, warnings: [...warnings] });
    } catch (e) {
      cb({ settled: true, error: e.message, responses: e.responses ?? null, ms: Date.now() - t0, warnings: [...warnings] });
    }
  });
});

http.listen(0, "127.0.0.1", () => out({ ev: "listening", port: http.address().port }));
