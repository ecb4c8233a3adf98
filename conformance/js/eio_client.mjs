// eio_client.mjs drives the real engine.io-client (from conformance/node_modules)
// against an Engine.IO server for the Go interop tests in eio_interop_test.go.
//
//   node js/eio_client.mjs <url> <scenario> [key=value ...]
//
// Scenarios (see the scenarios object below): connect, echo-text,
// echo-binary, echo-empty, large-text, large-binary, heartbeat,
// server-close, client-close, order, order-upgrade.
//
// Options:
//   mode=polling|websocket|upgrade  transports ["polling"], ["websocket"], or the
//                                    default list (polling, then upgrade); default upgrade
//   size=N                          payload size for the large-* scenarios
//   count=N                         messages for the order scenario (default 100)
//   idle=MS, pings=N                the heartbeat scenario stays idle for at least MS
//                                    (default 1500) and until it saw N pings (default 3)
//   timeout=MS                      watchdog (default 10000)
//
// The script waits until the connection is ready (open, or upgrade in mode
// upgrade), runs the scenario, then closes the socket and lets Node exit on
// its own. It prints one JSON object per line on stdout for everything it
// observed, stamped with "t", milliseconds since start; the Go side asserts
// on them. Set DEBUG=engine.io-client:* for the client's own trace on stderr. A line {"ev":"fail",...} or a non-zero
// exit status means the scenario could not complete. The watchdog makes sure
// the script never outlives its timeout.
//
// The server under test must echo every message as it came (text as text,
// binary as binary), except the text "cmd:close", to which it answers the
// text "bye" and then closes the session.

import { createHash } from "node:crypto";
import { Socket } from "engine.io-client";

const [url, scenario, ...rest] = process.argv.slice(2);
if (!url || !scenario) {
  console.error("usage: node eio_client.mjs <url> <scenario> [key=value ...]");
  process.exit(2);
}
const opt = Object.fromEntries(rest.map((kv) => kv.split(/=(.*)/s, 2)));
const mode = opt.mode ?? "upgrade";
const timeoutMs = Number(opt.timeout ?? 10000);

const t0 = Date.now();
// emit prints one observation, stamped with the milliseconds since start.
const emit = (obj) => process.stdout.write(JSON.stringify({ ...obj, t: Date.now() - t0 }) + "\n");
const fail = (why) => {
  emit({ ev: "fail", why });
  process.exit(1);
};

const watchdog = setTimeout(() => fail(`timeout after ${timeoutMs}ms in scenario ${scenario}`), timeoutMs);
watchdog.unref(); // never the reason Node stays alive

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

// describe reports a message's JS type and content: small payloads in full,
// large ones by length and SHA-256 (of the UTF-8 bytes for text).
function describe(data) {
  let kind = typeof data;
  let bytes;
  if (typeof data === "string") {
    bytes = Buffer.from(data, "utf8");
  } else if (Buffer.isBuffer(data)) {
    kind = "Buffer";
    bytes = data;
  } else if (data instanceof ArrayBuffer) {
    kind = "ArrayBuffer";
    bytes = Buffer.from(data);
  } else if (ArrayBuffer.isView(data)) {
    kind = data.constructor.name;
    bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  } else {
    return { kind: data === undefined ? "undefined" : kind };
  }
  const d = { kind, len: bytes.length, sha256: sha256(bytes) };
  if (bytes.length <= 512) {
    if (kind === "string") d.text = data;
    else d.hex = bytes.toString("hex");
  }
  return d;
}

// pattern returns n deterministic bytes that do not compress to nothing.
function pattern(n) {
  const b = Buffer.allocUnsafe(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

// sent reports what the client sends, in the same form as received messages.
const sent = (data, extra = {}) => emit({ ev: "sent", ...describe(data), ...extra });

const transports = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: undefined, // engine.io-client's default list
}[mode];
if (!(mode in { polling: 1, websocket: 1, upgrade: 1 })) fail(`unknown mode ${mode}`);

const socket = new Socket(url, transports ? { transports } : {});

// Message waiters: the scenario awaits messages in arrival order.
const inbox = [];
let wake = null;
let closed = false;
socket.on("handshake", (h) =>
  emit({ ev: "handshake", upgrades: h.upgrades, pingInterval: h.pingInterval, pingTimeout: h.pingTimeout, maxPayload: h.maxPayload }),
);
socket.on("open", () => emit({ ev: "open", transport: socket.transport.name }));
socket.on("upgrading", (t) => emit({ ev: "upgrading", transport: t.name }));
socket.on("upgrade", (t) => emit({ ev: "upgrade", transport: t.name }));
socket.on("upgradeError", (err) => emit({ ev: "upgradeError", error: String(err) }));
socket.on("ping", () => {
  emit({ ev: "ping", transport: socket.transport?.name });
  if (wake) wake();
});
socket.on("error", (err) => emit({ ev: "error", error: String(err), description: String(err?.description ?? "") }));
socket.on("message", (data) => {
  emit({ ev: "message", transport: socket.transport?.name, ...describe(data) });
  inbox.push(data);
  if (wake) wake();
});
socket.on("close", (reason, details) => {
  closed = true;
  const d = { ev: "close", reason };
  if (details?.description !== undefined) d.description = String(details.description);
  if (details?.context?.code !== undefined) d.code = details.context.code; // WebSocket close code
  emit(d);
  if (wake) wake();
});

const nextEvent = () => new Promise((resolve) => (wake = resolve)).finally(() => (wake = null));

// receive waits for n messages, failing if the socket closes first.
async function receive(n) {
  while (inbox.length < n) {
    if (closed) fail(`closed after ${inbox.length} of ${n} messages`);
    await nextEvent();
  }
  return inbox.splice(0, n);
}

async function waitClose() {
  while (!closed) await nextEvent();
}

const once = (ev) => new Promise((resolve) => socket.once(ev, resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// opened resolves on open and fails the scenario if the socket closes first.
function opened() {
  return new Promise((resolve) => {
    const onClose = () => fail("closed before open");
    socket.once("close", onClose);
    socket.once("open", () => {
      socket.off("close", onClose);
      resolve();
    });
  });
}

async function ready() {
  await opened();
  if (mode !== "upgrade") return;
  await upgraded();
}

async function upgraded() {
  const t = await Promise.race([once("upgrade").then(() => "upgrade"), once("upgradeError").then(() => "upgradeError"), once("close").then(() => "close")]);
  if (t !== "upgrade") fail(`no upgrade: ${t}`);
}

const scenarios = {
  async connect() {
    await ready();
    emit({ ev: "ready", transport: socket.transport.name, id: socket.id });
    socket.send("hello");
    sent("hello");
    await receive(1);
  },

  async "echo-text"() {
    await ready();
    const texts = ["hello", "héllo wörld ✓ 😀", "4 starts with a digit", "b looks like base64", '{"json":[1,2,3]}'];
    for (const t of texts) {
      socket.send(t);
      sent(t);
    }
    await receive(texts.length);
  },

  async "echo-binary"() {
    await ready();
    const all = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    const ab = new Uint8Array([1, 2, 3, 4]).buffer; // ArrayBuffer
    const view = new Uint8Array([9, 8, 7, 6, 5, 4, 3]).subarray(2, 5); // a view with an offset: 07 06 05
    const digit = Buffer.from("4"); // one byte that reads like a packet type
    const payloads = [
      [all, "Buffer"],
      [ab, "ArrayBuffer"],
      [view, "Uint8Array"],
      [digit, "Buffer"],
    ];
    for (const [p, as] of payloads) {
      socket.send(p);
      sent(p, { as });
    }
    await receive(payloads.length);
  },

  // echo-empty sends an empty text and an empty binary message.
  async "echo-empty"() {
    await ready();
    socket.send("");
    sent("");
    socket.send(Buffer.alloc(0));
    sent(Buffer.alloc(0));
    socket.send("end");
    sent("end");
    await receive(3);
  },

  async "large-text"() {
    await ready();
    const size = Number(opt.size ?? 999000);
    const text = pattern(size).toString("base64").slice(0, size); // ASCII: one byte per char
    socket.send(text);
    sent(text);
    await receive(1);
  },

  async "large-binary"() {
    await ready();
    const size = Number(opt.size ?? 999000);
    const buf = pattern(size);
    socket.send(buf);
    sent(buf);
    await receive(1);
  },

  // heartbeat stays idle for idle ms and until it has seen pings pings
  // (so that a slow machine stretches the test instead of failing it).
  async heartbeat() {
    await ready();
    const start = Date.now();
    let pings = 0;
    socket.on("ping", () => pings++);
    const minPings = Number(opt.pings ?? 3);
    await sleep(Number(opt.idle ?? 1500));
    while (!closed && pings < minPings) await nextEvent();
    if (closed) fail("closed while idle");
    emit({ ev: "idle-done", count: pings, ms: Date.now() - start });
  },

  async "server-close"() {
    await ready();
    socket.send("cmd:close");
    sent("cmd:close");
    await waitClose();
  },

  async "client-close"() {
    await ready();
    socket.close();
    await waitClose();
  },

  async order() {
    await ready();
    const n = Number(opt.count ?? 100);
    for (let i = 0; i < n; i++) socket.send(String(i));
    emit({ ev: "sent-all", count: n });
    await receive(n);
  },

  // order-upgrade sends in three phases of an upgrade: on open (over
  // polling), while upgrading (buffered by the client while polling is
  // paused) and after the upgrade (over WebSocket). Mode upgrade only.
  async "order-upgrade"() {
    const n = Number(opt.count ?? 50);
    let i = 0;
    const burst = (phase) => {
      for (let k = 0; k < n; k++) socket.send(String(i++));
      emit({ ev: "sent-phase", phase, upTo: i, transport: socket.transport.name });
    };
    socket.once("upgrading", () => burst("upgrading"));
    await opened();
    burst("open");
    await upgraded();
    burst("upgraded");
    await receive(i);
  },
};

const run = scenarios[scenario];
if (!run) fail(`unknown scenario ${scenario}`);

try {
  await run();
} catch (err) {
  fail(String(err?.stack ?? err));
}
if (!closed) socket.close();
emit({ ev: "done" });
// Node exits once the socket's last request or WebSocket has ended; the
// watchdog fires if something keeps it alive.
