// sio-mw-node-server.mjs runs a real Node socket.io 4.8 server (from
// conformance/node_modules) whose namespaces do, in a connection
// middleware, what sio_middleware_compare_test.go compares with gosio's
// server (which implements the same namespaces); js/sio-mw-client.mjs
// drives both.
//
//   node js/sio-mw-node-server.mjs
//
// It listens on a free port of 127.0.0.1, prints {"ev":"listening","port":N}
// and runs until its stdin closes or its watchdog fires (timeout=MS,
// default 60000). In each namespace's middleware, then in its connection
// handler:
//   /mw-state       emit("early", socket.connected); then emit("state", {mw, conn})
//   /mw-disconnect  socket.disconnect(); then emit("state", {conn})
//   /mw-close       socket.disconnect(true); then emit("state", {conn})
//   /mw-ack         emit("early", n, ack) with an acknowledgement; then
//                   emit("acked", what the client acknowledged) once it has
//   /mw-join        socket.join("a"); then emit("rooms", the rooms but the
//                   socket's own, sorted)

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

const http = createServer();
const io = new Server(http);

io.of("/mw-state")
  .use((socket, next) => {
    socket.data.mw = socket.connected;
    socket.emit("early", socket.connected);
    next();
  })
  .on("connection", (socket) => socket.emit("state", { mw: socket.data.mw, conn: socket.connected }));

io.of("/mw-disconnect")
  .use((socket, next) => {
    socket.disconnect();
    next();
  })
  .on("connection", (socket) => socket.emit("state", { conn: socket.connected }));

io.of("/mw-close")
  .use((socket, next) => {
    socket.disconnect(true);
    next();
  })
  .on("connection", (socket) => socket.emit("state", { conn: socket.connected }));

io.of("/mw-ack")
  .use((socket, next) => {
    socket.data.acked = new Promise((resolve) => socket.emit("early", 7, (reply) => resolve(reply)));
    next();
  })
  .on("connection", async (socket) => socket.emit("acked", await socket.data.acked));

io.of("/mw-join")
  .use((socket, next) => {
    socket.join("a");
    next();
  })
  .on("connection", (socket) => socket.emit("rooms", [...socket.rooms].filter((r) => r !== socket.id).sort()));

http.listen(0, "127.0.0.1", () => out({ ev: "listening", port: http.address().port }));
