// sio-client.mjs drives the real socket.io-client (from conformance/node_modules)
// against gosio's Socket.IO server for the Go interop tests in sio_*_test.go.
//
//   node js/sio-client.mjs <url> <scenario> [key=value ...]
//
// Options:
//   mode=polling|websocket|upgrade  transports ["polling"], ["websocket"], or
//                                    ["polling", "websocket"] with the upgrade
//                                    awaited before the scenario; default websocket
//   action=...                      for the reconnect scenario: what the server
//                                    does to the connection (close-conn, kill-tcp,
//                                    disconnect, disconnect-close)
//   timeout=MS                      watchdog (default 10000)
//
// Scenarios (the Go test's server implements the events they use):
//   features   one Manager, namespaces "/" and "/custom": auth, mixed
//              JSON/binary events both ways, acks both ways, volatile
//   reject     middleware rejections and an unknown namespace
//   rooms      three clients: rooms, broadcasts with except, socket.broadcast
//   reconnect  the server drops the connection; the client reconnects or not
//   recover    connection state recovery: the Go test cuts the connection
//              after the "ready" event and restores it later
//   order      one Manager on "/" and "/custom": once both are connected the
//              server emits a sequence mixing broadcasts to each namespace,
//              to a room, with except, binary ones and direct emits (in mode
//              upgrade it races the upgrade); the client reports everything
//              it got, in arrival order, once the sequence's "end" came
//
// The script prints one JSON object per line for what it observed; binary
// values are written as {"$buf":"<hex>"} (Node Buffer), {"$ab":"<hex>"}
// (ArrayBuffer), functions as {"$fn":true}, undefined as {"$undefined":true}.
// It ends with {"ev":"done"} and exit status 0, or {"ev":"fail","why":...}
// and status 1. The watchdog makes sure it never outlives its timeout.

import { Manager } from "socket.io-client";
import { isDeepStrictEqual } from "node:util";

const [url, scenario, ...rest] = process.argv.slice(2);
if (!url || !scenario) {
  console.error("usage: node sio-client.mjs <url> <scenario> [key=value ...]");
  process.exit(2);
}
const opt = Object.fromEntries(rest.map((kv) => kv.split(/=(.*)/s, 2)));
const mode = opt.mode ?? "websocket";
const timeoutMs = Number(opt.timeout ?? 10000);

const t0 = Date.now();
const out = (obj) => process.stdout.write(JSON.stringify({ ...obj, t: Date.now() - t0 }) + "\n");
const managers = [];
function fail(why) {
  out({ ev: "fail", why: String(why?.stack ?? why) });
  process.exit(1);
}
process.on("unhandledRejection", fail);
process.on("uncaughtException", fail);
setTimeout(() => fail(`timeout after ${timeoutMs}ms in scenario ${scenario}`), timeoutMs).unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function transports() {
  switch (mode) {
    case "polling":
      return ["polling"];
    case "websocket":
      return ["websocket"];
    case "upgrade":
      return ["polling", "websocket"];
  }
  throw new Error(`unknown mode ${mode}`);
}

// newManager returns a Manager with fast, deterministic reconnection.
function newManager(extra = {}) {
  const m = new Manager(url, {
    transports: transports(),
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
    randomizationFactor: 0,
    timeout: 5000,
    ...extra,
  });
  managers.push(m);
  return m;
}

// enc returns a JSON-friendly description of a received value.
function enc(v) {
  if (Buffer.isBuffer(v)) return { $buf: v.toString("hex") };
  if (v instanceof ArrayBuffer) return { $ab: Buffer.from(v).toString("hex") };
  if (ArrayBuffer.isView(v)) {
    return { ["$" + v.constructor.name]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  }
  if (typeof v === "function") return { $fn: true };
  if (v === undefined) return { $undefined: true };
  if (Array.isArray(v)) return v.map(enc);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)]));
  return v;
}

// once resolves with the arguments of the next ev, or rejects after ms.
function once(emitter, ev, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ev} within ${ms}ms`)), ms);
    emitter.once(ev, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

// until polls cond every 10 ms until it holds, or rejects after ms.
async function until(cond, what, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// connected resolves when sock connects and rejects on connect_error.
function connected(sock, ms = 5000) {
  if (sock.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${sock.nsp}: no connect within ${ms}ms`)), ms);
    sock.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    sock.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${sock.nsp}: connect_error ${err.message}`));
    });
  });
}

// call emits ev with args and a callback, resolving with the ack's arguments.
function call(sock, ev, ...args) {
  return new Promise((resolve, reject) =>
    sock.timeout(5000).emit(ev, ...args, (err, ...resp) => (err ? reject(new Error(`${ev}: ${err.message}`)) : resolve(resp))),
  );
}

// waitUpgrade waits, in mode upgrade, until the Manager's engine runs on WebSocket.
async function waitUpgrade(m) {
  if (mode !== "upgrade" || m.engine.transport.name === "websocket") return;
  await once(m.engine, "upgrade");
}

// finish disconnects the sockets, waits for every engine to close, and exits.
async function finish(...sockets) {
  const closes = managers
    .filter((m) => m.engine && m.engine.readyState !== "closed")
    .map((m) => once(m.engine, "close", 3000).catch(() => {}));
  for (const s of sockets) s.disconnect();
  await Promise.all(closes);
  out({ ev: "done" });
  process.exit(0);
}

// record prints every event sock receives and keeps it in list.
function record(sock, list, extra = () => ({})) {
  sock.onAny((name, ...args) => {
    list.push({ ns: sock.nsp, name, args });
    out({ ev: "event", ns: sock.nsp, name, args: enc(args), ...extra() });
  });
}

const scenarios = {
  async features() {
    const m = newManager();
    const main = m.socket("/", { auth: { token: "main-token", n: 1 } });
    const custom = m.socket("/custom", { auth: { token: "custom-token" } });
    const events = [];
    record(main, events);
    record(custom, events);
    main.on("question", (...args) => {
      const cb = args.pop();
      cb(Buffer.from([7, 7]), { answer: args[1].q + 1, nested: [Buffer.from([8])] }, "extra");
    });
    await Promise.all([connected(main), connected(custom)]);
    await waitUpgrade(m);
    for (const s of [main, custom]) {
      out({ ev: "connected", ns: s.nsp, id: s.id, engine: m.engine.id, transport: m.engine.transport.name });
    }
    const has = (ns, name) => events.find((e) => e.ns === ns && e.name === name);
    await until(() => has("/", "auth") && has("/custom", "auth"), "auth events");

    // Mixed JSON and binary arguments, client -> server -> client, in an
    // event and in the ack.
    const sent = [1, "two", { a: [true, null], bin: Buffer.from([1, 2, 3]) }, [Buffer.from([4, 5]), { deep: Buffer.from([6]) }], Buffer.alloc(0)];
    const ackArgs = await call(main, "echo", ...sent);
    const back = has("/", "echo-back");
    out({ ev: "echo", ack: enc(ackArgs), ackSame: isDeepStrictEqual(ackArgs, sent), back: enc(back?.args), backSame: isDeepStrictEqual(back?.args, sent) });

    // Server -> client binary, arriving before the ack of the request.
    const sentAck = await call(main, "send-me");
    out({ ev: "gift", ack: enc(sentAck), args: enc(has("/", "gift")?.args) });

    // Server EmitWithAck -> client callback (binary both ways).
    const asked = await call(main, "ask-me");
    out({ ev: "asked", ack: enc(asked), question: enc(has("/", "question")?.args) });

    // The custom namespace on the same connection.
    const c = await call(custom, "echo", "hi", Buffer.from([5]));
    out({ ev: "custom-echo", ack: enc(c) });

    // Volatile: a volatile packet is dropped when the transport cannot take
    // it at once (over polling: no GET pending, the previous one may still be
    // on its way), so retry, idle a little longer each time, until one arrives.
    for (const kind of ["direct", "broadcast", "room"]) {
      let got = 0;
      for (let i = 1; i <= 10 && !got; i++) {
        await sleep(25 * (i - 1));
        await call(main, "volatile-please", kind, i);
        if (events.some((e) => e.name === "vol" && e.args[0] === kind && e.args[1] === i)) got = i;
      }
      out({ ev: "volatile", kind, attempt: got });
    }
    out({ ev: "transport", transport: m.engine.transport.name });
    await finish(main, custom);
  },

  async reject() {
    // A rejected namespace and an accepted one on the same Manager.
    const m1 = newManager();
    const s1 = m1.socket("/", { auth: { reject: "connect-error" } });
    const ok = m1.socket("/custom", { auth: { token: "fine" } });
    const errs = { s1: [], s2: [], s3: [] };
    s1.on("connect_error", (e) => errs.s1.push(e));
    const m2 = newManager();
    const s2 = m2.socket("/", { auth: { reject: "plain" } });
    s2.on("connect_error", (e) => errs.s2.push(e));
    const m3 = newManager();
    const s3 = m3.socket("/nope");
    s3.on("connect_error", (e) => errs.s3.push(e));
    await connected(ok);
    await until(() => errs.s1.length && errs.s2.length && errs.s3.length, "three connect_error");
    await sleep(300); // no retry may follow (reconnection delays are 100-300 ms)
    for (const [name, s] of [["s1", s1], ["s2", s2], ["s3", s3]]) {
      const e = errs[name][0];
      out({ ev: "connect_error", who: name, message: e.message, data: enc(e.data), count: errs[name].length, active: s.active, connected: s.connected });
    }
    out({ ev: "accepted", id: ok.id, connected: ok.connected });
    await finish(ok);
  },

  async rooms() {
    const names = ["A", "B", "C"];
    const socks = {};
    const got = {};
    for (const n of names) {
      socks[n] = newManager().socket("/", { auth: { name: n } });
      got[n] = [];
      socks[n].on("b", (tag, ...rest) => got[n].push(rest.length ? `${tag}:${JSON.stringify(enc(rest))}` : tag));
      socks[n].on("end", () => got[n].push("end"));
    }
    await Promise.all(names.map((n) => connected(socks[n])));
    await Promise.all(names.map((n) => waitUpgrade(socks[n].io)));
    const { A, B, C } = socks;
    const ids = { A: A.id, B: B.id, C: C.id };
    out({ ev: "ids", ...ids });
    const rooms = {
      A: await call(A, "join", "r1", "r2"),
      B: await call(B, "join", "r1"),
      C: await call(C, "join", "r2"),
    };
    out({ ev: "joined", rooms });
    const steps = [
      { op: "server", to: ["r1"], tag: "t1" },
      { op: "server", to: ["r1", "r2"], tag: "t2" },
      { op: "server", to: ["r1", "r2"], except: ["r2"], tag: "t3" },
      { op: "server", except: ["r1"], tag: "t4" },
      { op: "server", except: [ids.B], tag: "t5" },
      { op: "socket", to: ["r1"], tag: "t6" },
      { op: "socket", tag: "t7" },
      { op: "socket", except: ["r2"], tag: "t8" },
      { op: "server", to: [ids.A], tag: "t9" },
      { op: "nsp", to: ["r2"], except: [ids.C], tag: "t10" },
      { op: "server", to: ["r2"], tag: "t11", bin: true },
    ];
    for (const st of steps) await call(A, "bcast", st);
    await call(A, "leave", "r1");
    await call(A, "bcast", { op: "server", to: ["r1"], tag: "t12" });
    await call(A, "end");
    await until(() => names.every((n) => got[n].includes("end")), "end on every client");
    for (const n of names) out({ ev: "received", who: n, tags: got[n] });
    await finish(A, B, C);
  },

  async reconnect() {
    const action = opt.action;
    const m = newManager();
    const s = m.socket("/");
    let connects = 0;
    s.on("connect", () => out({ ev: "connect", n: ++connects, id: s.id }));
    s.on("disconnect", (reason, desc) => out({ ev: "disconnect", reason, desc: String(desc?.description?.message ?? desc?.description ?? desc?.message ?? "") }));
    m.on("reconnect_attempt", (n) => out({ ev: "reconnect_attempt", n }));
    m.on("reconnect", (n) => out({ ev: "reconnect", n }));
    await connected(s);
    await waitUpgrade(m);
    const first = s.id;
    out({ ev: "transport", transport: m.engine.transport.name });
    const disc = once(s, "disconnect", 8000);
    s.emit("drop-me", action);
    await disc;
    if (action === "close-conn" || action === "kill-tcp") {
      await until(() => s.connected, "reconnection", 8000);
      const r = await call(s, "hello-again");
      out({ ev: "again", ack: enc(r), newId: s.id !== first });
    } else {
      await sleep(700); // long enough for several reconnection delays (100-300 ms)
      out({ ev: "quiet", active: s.active, connected: s.connected, connects });
    }
    await finish(s);
  },

  async recover() {
    const m = newManager();
    const s = m.socket("/", { auth: { user: "alice" } });
    let connects = 0;
    const events = [];
    record(s, events, () => ({ n: connects }));
    s.on("ev", (tag) => {
      if (tag === "b2" && connects === 1) s.emit("ready");
    });
    s.on("connect", () => out({ ev: "connect", n: ++connects, id: s.id, recovered: s.recovered }));
    s.on("disconnect", (reason) => {
      out({ ev: "disconnect", reason, active: s.active });
      s.emit("offline-msg", "queued while offline"); // buffered until reconnected
    });
    await connected(s);
    const first = s.id;
    await until(() => connects === 2, "the reconnection", timeoutMs);
    const r = await call(s, "after");
    out({ ev: "after", ack: enc(r), sameId: s.id === first });
    await finish(s);
  },

  async order() {
    const m = newManager();
    const main = m.socket("/");
    const custom = m.socket("/custom");
    const got = [];
    let ended = false;
    for (const s of [main, custom]) {
      s.on("o", (...args) => {
        got.push(`${s.nsp}|${JSON.stringify(enc(args))}`);
        if (args[0] === "end") ended = true;
      });
    }
    await Promise.all([connected(main), connected(custom)]);
    await until(() => ended, "the end of the sequence", timeoutMs - 2000);
    out({ ev: "order", got, transport: m.engine.transport.name });
    await finish(main, custom);
  },
};

const run = scenarios[scenario];
if (!run) fail(`unknown scenario ${scenario}`);
await run();
