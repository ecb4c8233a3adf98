// Node socket.io 4.8 under the suite's app contract (docs/benchmarks.md).
// Defaults everywhere; ws uses bufferutil and utf-8-validate when they load,
// as the socket.io performance docs advise, and rawSocket.request is dropped
// after the handshake (the docs' memory tip). Run with --expose-gc.
//
// With -redis=URL it is a node of a cluster over Redis (node-redis 5 clients):
// -adapter=classic (@socket.io/redis-adapter createAdapter), sharded
// (createShardedAdapter) or streams (@socket.io/redis-streams-adapter
// createAdapter), each with its default options; -recovery turns connection
// state recovery on.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { Server } from "socket.io";

const require = createRequire(import.meta.url);
const loaded = (name) => { try { require(name); return true; } catch { return false; } };
const flag = (name, def) => {
  const a = process.argv.find((x) => x.startsWith(`-${name}=`));
  return a === undefined ? def : a.slice(name.length + 2);
};
const addr = flag("addr", "127.0.0.1:3000");
const [host, port] = [addr.slice(0, addr.lastIndexOf(":")), Number(addr.slice(addr.lastIndexOf(":") + 1))];
const redisURL = flag("redis", "");
const adapterName = flag("adapter", "classic");
const recovery = process.argv.includes("-recovery");

async function clusterAdapter() {
  const { createClient } = await import("redis");
  const pub = createClient({ url: redisURL });
  pub.on("error", (err) => console.error("redis:", err.message));
  await pub.connect();
  if (adapterName === "streams") {
    const { createAdapter } = await import("@socket.io/redis-streams-adapter");
    return createAdapter(pub);
  }
  const sub = pub.duplicate();
  sub.on("error", (err) => console.error("redis sub:", err.message));
  await sub.connect();
  const { createAdapter, createShardedAdapter } = await import("@socket.io/redis-adapter");
  if (adapterName === "sharded") return createShardedAdapter(pub, sub);
  if (adapterName === "classic") return createAdapter(pub, sub);
  throw new Error(`unknown adapter ${adapterName}`);
}

let conns = 0;
const http = createServer((req, res) => {
  if (req.url === "/stats") {
    res.setHeader("Content-Type", "application/json");
    const m = process.memoryUsage();
    res.end(JSON.stringify({
      server: "node", conns, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal,
      bufferutil: loaded("bufferutil"), utf8validate: loaded("utf-8-validate"),
    }));
  } else if (req.url === "/gc") {
    if (global.gc) global.gc();
    res.end("ok\n");
  } else {
    res.statusCode = 404;
    res.end();
  }
});

const opts = {};
if (redisURL) opts.adapter = await clusterAdapter();
if (recovery) opts.connectionStateRecovery = {};
const io = new Server(http, opts);
io.engine.on("connection", (rawSocket) => { rawSocket.request = null; });
io.on("connection", (socket) => {
  conns++;
  socket.on("disconnect", () => { conns--; });
  socket.on("echo", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("bcast", (data) => { io.emit("b", data); });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("room", (room, data) => { io.to(room).emit("b", data); });
  // fetch acknowledges the number of sockets of the cluster, or -1.
  socket.on("fetch", (ack) => {
    if (typeof ack !== "function") return;
    io.fetchSockets().then((s) => ack(s.length), () => ack(-1));
  });
});

http.listen(port, host, () => { console.log(`listening ${host}:${port}`); });
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
