// gen-golden.mjs writes golden.json: the exact Redis commands that Node's
// emitters send for a list of operations, as a private redis-server's
// MONITOR prints them. emitter_test.go performs the same operations with
// the Go emitter and compares the MONITOR lines byte for byte.
//
// Emitters run:
//   - @socket.io/redis-emitter 5.1.0 from ../../conformance/node_modules
//     (npm ci there first);
//   - the streams emitter of the socket.io monorepo
//     (packages/socket.io-redis-streams-emitter, 0.1.1), which is not
//     published on npm: pass the folder holding its lib/*.ts with
//     --streams-src. The TypeScript is transpiled into a temp folder with
//     the `typescript` package (any 5.x), found through --typescript DIR
//     (a folder whose node_modules has it, e.g. after
//     `npm install --prefix /tmp/ts typescript@5`). Nothing of it is kept.
//
// Usage (from the repository root):
//   node emitter/testdata/gen-golden.mjs --streams-src DIR --typescript DIR > emitter/testdata/golden.json
//
// golden.json was written with Node 20, redis-server 7.0.15 and the streams
// emitter at socketio/socket.io commit d2d753fe.
//
// A redis-server binary must be on the PATH; the script starts its own on
// a free port.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

const conformance = new URL("../../conformance/package.json", import.meta.url);
const req = createRequire(conformance);
const { Emitter } = req("@socket.io/redis-emitter");
const { createClient } = req("redis");

function loadStreamsEmitter(src, tsDir) {
  const ts = createRequire(path.join(path.resolve(tsDir), "package.json"))("typescript");
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "gosio-xe-"));
  for (const f of fs.readdirSync(src)) {
    if (!f.endsWith(".ts")) continue;
    let js = ts.transpileModule(fs.readFileSync(path.join(src, f), "utf8"), {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
    }).outputText;
    // Resolve the package's dependencies from conformance/node_modules.
    for (const dep of ["debug", "@msgpack/msgpack"]) {
      js = js.split(`require("${dep}")`).join(`require(${JSON.stringify(req.resolve(dep))})`);
    }
    fs.writeFileSync(path.join(out, f.replace(/\.ts$/, ".js")), js);
  }
  const mod = createRequire(path.join(out, "index.js"))(path.join(out, "index.js"));
  fs.rmSync(out, { recursive: true, force: true });
  return mod.Emitter;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gosio-golden-redis-"));
  const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    try {
      await new Promise((resolve, reject) => {
        const c = net.connect(port, "127.0.0.1", () => { c.end(); resolve(); });
        c.on("error", reject);
      });
      return { port, stop: () => { proc.kill("SIGKILL"); fs.rmSync(dir, { recursive: true, force: true }); } };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error("redis-server did not start");
}

// monitor returns a function that resolves with the next PUBLISH or XADD
// MONITOR line, without its timestamp and client prefix.
async function monitor(port) {
  const sock = net.connect(port, "127.0.0.1");
  await new Promise((r) => sock.on("connect", r));
  sock.write("MONITOR\r\n");
  let buf = "";
  const lines = [];
  const waiters = [];
  sock.on("data", (d) => {
    buf += d.toString("latin1");
    let i;
    while ((i = buf.indexOf("\r\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const m = /^\+\d+\.\d+ \[\d+ [^\]]*\] (.*)$/.exec(line);
      if (!m || !/^"(PUBLISH|XADD|SPUBLISH)"/i.test(m[1])) continue;
      if (waiters.length) waiters.shift()(m[1]);
      else lines.push(m[1]);
    }
  });
  await new Promise((r) => setTimeout(r, 100));
  const next = () =>
    new Promise((resolve, reject) => {
      if (lines.length) return resolve(lines.shift());
      const t = setTimeout(() => reject(new Error("no command seen")), 3000);
      waiters.push((l) => { clearTimeout(t); resolve(l); });
    });
  return { next, close: () => sock.destroy() };
}

const buf = (...b) => Buffer.from(b);

// Each case is [name, (emitters) => operation]. The names are the keys the
// Go test uses; keep them stable.
const classicCases = [
  ["emit-all", (e) => e.emit("hello", 1, "2", buf(3, 4))],
  ["emit-room", (e) => e.to("room1").emit("ev", 1)],
  ["emit-rooms-except-flags", (e) => e.to(["r1", "r2"]).except("r3").volatile.compress(false).emit("ev", 2)],
  ["emit-flags-order", (e) => e.compress(false).volatile.emit("ev")],
  ["emit-compress-true", (e) => e.compress(true).emit("ev")],
  ["emit-compress-twice", (e) => e.compress(false).volatile.compress(true).emit("ev")],
  ["emit-in-dedup", (e) => e.in("a").to(["b", "a"]).except("c").except(["c", "d"]).emit("ev")],
  ["emit-except-only", (e) => e.except("r3").emit("ev", { a: "b", n: [1.5, -3, 0] })],
  ["emit-socket-id", (e) => e.to("ABCDEFGHIJKLMNOPQRST").emit("private", "x")],
  ["emit-values", (e) => e.emit("values", null, true, false, 0, -1, 255, 65536, -129, 4294967296, 9007199254740991, 1.25, "", "héllo ✓ 𝄞", [1, [2, [3]]], { z: 1, a: { b: [] } })],
  ["emit-nested-binary", (e) => e.emit("bin", { file: buf(1, 2, 3), list: [buf(), buf(255)] }, "after")],
  ["emit-long-string", (e) => e.emit("long", "x".repeat(300))],
  ["of-custom", (e) => e.of("custom").emit("ev", "x")],
  ["of-slash-custom-room", (e) => e.of("/custom").to("room1").emit("ev", buf(9))],
  ["sockets-join", (e) => e.socketsJoin("room1")],
  ["sockets-join-rooms", (e) => e.to("room1").except("room0").socketsJoin(["room2", "room3"])],
  ["sockets-leave", (e) => e.socketsLeave(["room1"])],
  ["sockets-leave-in", (e) => e.in("room1").socketsLeave("room2")],
  ["disconnect", (e) => e.disconnectSockets()],
  ["disconnect-close-room", (e) => e.to("room1").disconnectSockets(true)],
  ["disconnect-custom", (e) => e.of("/custom").except("r").disconnectSockets(false)],
  ["sse", (e) => e.serverSideEmit("hello", "world", 1, "2")],
  ["sse-binary", (e) => e.serverSideEmit("file", buf(1, 2))],
  ["sse-custom", (e) => e.of("/custom").serverSideEmit("ping")],
  ["json-emit", (e, x) => x.json.emit("ev", 1, "2", buf(3))],
  ["json-emit-room", (e, x) => x.json.to("r1").volatile.emit("ev", [1.5])],
  ["key-emit", (e, x) => x.keyed.to("room1").emit("ev", 1)],
  ["key-join", (e, x) => x.keyed.socketsJoin("r")],
];

const streamsCases = [
  ["xe-emit-all", (e) => e.emit("hello", 1, "2")],
  ["xe-emit-binary", (e) => e.emit("hello", 1, "2", buf(3, 4))],
  ["xe-emit-rooms-except-flags", (e) => e.to(["r1", "r2"]).except("r3").volatile.compress(false).emit("ev", 2)],
  ["xe-emit-flags-order", (e) => e.compress(false).volatile.emit("ev")],
  ["xe-emit-in-dedup", (e) => e.in("a").to(["b", "a"]).except("c").except(["c", "d"]).emit("ev")],
  ["xe-emit-values", (e) => e.emit("values", null, true, 0, -1, 9007199254740991, 1.25, "héllo ✓ 𝄞", { z: 1, a: [] })],
  ["xe-emit-values-binary", (e) => e.emit("values", null, true, 0, -1, 255, 65536, -129, 4294967296, 9007199254740992, 1.25, "héllo ✓ 𝄞", { z: 1, a: [buf(7)] })],
  ["xe-of-custom", (e) => e.of("/custom").to("room1").emit("ev", "x")],
  ["xe-sockets-join", (e) => e.socketsJoin("room1")],
  ["xe-sockets-join-rooms", (e) => e.to("room1").except("room0").socketsJoin(["room2", "room3"])],
  ["xe-sockets-leave", (e) => e.in("room1").socketsLeave("room2")],
  ["xe-disconnect", (e) => e.disconnectSockets()],
  ["xe-disconnect-close", (e) => e.of("/custom").to("r").disconnectSockets(true)],
  ["xe-sse", (e) => e.serverSideEmit("hello", "world", 1, "2")],
  ["xe-sse-binary", (e) => e.serverSideEmit("file", buf(1, 2))],
  ["xe-options", (e, x) => x.named.to("r").emit("ev", 1)],
];

async function main() {
  const streamsSrc = arg("--streams-src");
  const tsDir = arg("--typescript");
  if (!streamsSrc || !tsDir) {
    console.error("usage: gen-golden.mjs --streams-src DIR --typescript DIR");
    process.exit(2);
  }
  const StreamsEmitter = loadStreamsEmitter(streamsSrc, tsDir);
  const redis = await startRedis();
  try {
    const mon = await monitor(redis.port);
    const client = createClient({ url: `redis://127.0.0.1:${redis.port}` });
    await client.connect();
    const out = { generator: "emitter/testdata/gen-golden.mjs", node: process.version, cases: [] };
    const run = async (cases, e, extra) => {
      for (const [name, op] of cases) {
        op(e, extra);
        out.cases.push({ name, command: await mon.next() });
      }
    };
    await run(classicCases, new Emitter(client), {
      json: new Emitter(client, { parser: { encode: JSON.stringify } }),
      keyed: new Emitter(client, { key: "custom-key" }),
    });
    await run(streamsCases, new StreamsEmitter(client), {
      named: new StreamsEmitter(client, { streamName: "my-stream", maxLen: 500 }),
    });
    await client.quit();
    mon.close();
    process.stdout.write(JSON.stringify(out, null, 1) + "\n");
  } finally {
    redis.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
