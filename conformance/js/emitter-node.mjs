// emitter-node.mjs drives Node's @socket.io/redis-emitter 5.1.0 for
// conformance/emitter_mixed_test.go: one JSON command per stdin line, one
// JSON answer per stdout line ({"ok":true} or {"ok":false,"error":msg}),
// in order. A value {"$b64": "<base64>"} in args is sent as a Buffer.
//
// Usage: node emitter-node.mjs --redis redis://127.0.0.1:6379
//
// Commands: {op, nsp?, rooms?, except?, volatile?, compress?, ...}
//   op "emit"       event, args
//   op "join"       join: [rooms]
//   op "leave"      leave: [rooms]
//   op "disconnect" close
//   op "sse"        event, args
// nsp is passed to emitter.of() as given (of() adds a missing "/").

import { createClient } from "redis";
import { Emitter } from "@socket.io/redis-emitter";
import readline from "node:readline";

const i = process.argv.indexOf("--redis");
const url = i > 0 ? process.argv[i + 1] : "redis://127.0.0.1:6379";

const decode = (v) => {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$b64") return Buffer.from(v.$b64, "base64");
    return Object.fromEntries(keys.map((k) => [k, decode(v[k])]));
  }
  return v;
};

function run(root, c) {
  let e = c.nsp === undefined ? root : root.of(c.nsp);
  let op = e;
  if (c.rooms?.length) op = op.to(c.rooms);
  if (c.except?.length) op = op.except(c.except);
  if (c.volatile) op = op.volatile;
  if (c.compress !== undefined) op = op.compress(c.compress);
  switch (c.op) {
    case "emit":
      op.emit(c.event, ...decode(c.args ?? []));
      break;
    case "join":
      op.socketsJoin(c.join);
      break;
    case "leave":
      op.socketsLeave(c.leave);
      break;
    case "disconnect":
      op.disconnectSockets(!!c.close);
      break;
    case "sse":
      e.serverSideEmit(c.event, ...decode(c.args ?? []));
      break;
    default:
      throw new Error("unknown op " + c.op);
  }
}

const client = createClient({ url });
client.on("error", (err) => console.error("redis:", err.message));
await client.connect();
const root = new Emitter(client);
const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  let answer;
  try {
    run(root, JSON.parse(line));
    // The emitter does not wait for its PUBLISH: a PING on the same
    // connection returns once every command before it was handled.
    await client.ping();
    answer = { ok: true };
  } catch (err) {
    answer = { ok: false, error: err.message };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
await client.quit();
