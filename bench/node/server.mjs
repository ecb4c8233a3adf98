// Node socket.io 4.8 under the suite's app contract (docs/benchmarks.md).
// Defaults everywhere; ws uses bufferutil and utf-8-validate when they load,
// as the socket.io performance docs advise, and rawSocket.request is dropped
// after the handshake (the docs' memory tip). Run with --expose-gc.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { Server } from "socket.io";

const require = createRequire(import.meta.url);
const loaded = (name) => { try { require(name); return true; } catch { return false; } };
const addr = (process.argv.find((a) => a.startsWith("-addr=")) ?? "-addr=127.0.0.1:3000").slice(6);
const [host, port] = [addr.slice(0, addr.lastIndexOf(":")), Number(addr.slice(addr.lastIndexOf(":") + 1))];

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

const io = new Server(http);
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
});

http.listen(port, host, () => { console.log(`listening ${host}:${port}`); });
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
