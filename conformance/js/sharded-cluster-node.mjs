// sharded-cluster-node.mjs is a Node Socket.IO 4.8 server with
// @socket.io/redis-adapter 8.3.0's createShardedAdapter on a node-redis 5
// cluster client (createCluster), plus one socket.io-client connected to
// it, for conformance/sharded_cluster_test.go.
//
// Usage: node sharded-cluster-node.mjs --nodes 127.0.0.1:7000,127.0.0.1:7001
//        [--prefix socket.io] [--mode dynamic|static|dynamic-private]
//
// stdout, one JSON object a line:
//   {"ready":true,"port":N,"client":"<socket id>"} once the client connected
//   {"ev":[args...]}                               each "ev" the client got
//   {"id":N,"ok":true,...} / {"id":N,"ok":false,"error":msg} per command
// stdin, one JSON command a line, each with an id:
//   {"op":"emit","room"?:r,"args":[...]}   io(.to(r)).emit("ev", ...args)
//   {"op":"join","room":r}                 the client asks its socket to join r
//   {"op":"count"}                         serverCount            → n
//   {"op":"fetch","room"?:r}               fetchSockets ids       → ids
//   {"op":"sse","arg":v}                   serverSideEmitWithAck("hello", v) → responses
//   {"op":"rooms"}                         the server's rooms     → rooms

import { createServer } from "node:http";
import readline from "node:readline";
import { Server } from "socket.io";
import { io as ioc } from "socket.io-client";
import { createCluster } from "redis";
import { createShardedAdapter } from "@socket.io/redis-adapter";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const rootNodes = arg("--nodes", "127.0.0.1:7000")
  .split(",")
  .map((a) => ({ url: "redis://" + a }));
const channelPrefix = arg("--prefix", "socket.io");
const subscriptionMode = arg("--mode", "dynamic");

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const pubClient = createCluster({ rootNodes });
const subClient = pubClient.duplicate();
pubClient.on("error", (err) => console.error("redis pub:", err.message));
subClient.on("error", (err) => console.error("redis sub:", err.message));
await Promise.all([pubClient.connect(), subClient.connect()]);

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: createShardedAdapter(pubClient, subClient, { channelPrefix, subscriptionMode }),
});
io.on("connection", (socket) => {
  socket.on("join", (room, cb) => {
    socket.join(room);
    if (typeof cb === "function") cb();
  });
});
io.on("hello", (v, cb) => cb("node:" + v));

await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
const port = httpServer.address().port;

const client = ioc(`http://127.0.0.1:${port}`, { transports: ["websocket"] });
client.on("ev", (...args) => out({ ev: args }));
await new Promise((resolve) => client.once("connect", resolve));

async function run(c) {
  switch (c.op) {
    case "emit":
      (c.room ? io.to(c.room) : io).emit("ev", ...(c.args ?? []));
      return {};
    case "join":
      await client.timeout(5000).emitWithAck("join", c.room);
      return {};
    case "count":
      return { n: await io.of("/").adapter.serverCount() };
    case "fetch": {
      const socks = await (c.room ? io.in(c.room) : io).fetchSockets();
      return { ids: socks.map((s) => s.id) };
    }
    case "sse":
      return { responses: await io.serverSideEmitWithAck("hello", c.arg) };
    case "rooms":
      return { rooms: [...io.of("/").adapter.rooms.keys()] };
    default:
      throw new Error("unknown op " + c.op);
  }
}

out({ ready: true, port, client: client.id });
const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  try {
    out({ id: c.id, ok: true, ...(await run(c)) });
  } catch (err) {
    out({ id: c.id, ok: false, error: err.message });
  }
}
// stdin closed: stop. Quitting the node-redis clients races the adapter's
// SUNSUBSCRIBEs of io.close() (ClientClosedError), so exit instead.
client.close();
io.close();
setTimeout(() => process.exit(0), 100);
