// peer-server.mjs runs the reference socket.io 4.8 server (from
// conformance/node_modules) for the tests of gosio's Go client
// (socketio/client_test.go), which run the same scenarios against gosio's
// own server:
//
//   node js/peer-server.mjs <port> [--csr] [pingInterval] [pingTimeout]
//
// It prints one JSON line {"ev":"listening","port":N} when ready. With
// --csr, connection state recovery is enabled (then every event without
// ack carries its offset as a last argument).
//
// Namespaces "/" and "/admin" (which requires auth {token:"secret"} and
// otherwise refuses with message "not authorized" and data {code:401})
// answer these events:
//   echo ...args            emits "echo" ...args back
//   ack ...args, cb         acknowledges with ...args
//   auth cb                 acknowledges with the handshake's auth
//   ask name ...args        emits name ...args with an ack, then emits
//                           "answer" with the client's ack arguments
//   noack ...args, cb       never acknowledges
//   flaky key n, cb         ignores the first n deliveries for key, then
//                           acknowledges with the number of deliveries
//   count key, cb           acknowledges with the deliveries of key so far
//   disconnect-me           disconnects the socket from the namespace
//   close-me                closes the socket's Engine.IO connection
//   broadcast n, cb         emits "tick" 0..n-1 to the namespace, then acks
//   emit-when-gone sid n, cb  waits until socket sid of the namespace has
//                           disconnected, emits "missed" 0..n-1 to the
//                           namespace, then acknowledges
// and emit "welcome" to each socket as soon as it connects.
import { createServer } from "node:http";
import { Server } from "socket.io";

const args = process.argv.slice(2);
const csr = args.includes("--csr");
const [port = "3000", pingInterval = "25000", pingTimeout = "20000"] = args.filter((a) => a !== "--csr");

const http = createServer();
const io = new Server(http, {
  pingInterval: Number(pingInterval),
  pingTimeout: Number(pingTimeout),
  ...(csr ? { connectionStateRecovery: { maxDisconnectionDuration: 60000, skipMiddlewares: true } } : {}),
});

const deliveries = new Map();

function setup(nsp) {
  nsp.on("connection", (socket) => {
    socket.emit("welcome", socket.id);
    socket.on("echo", (...a) => socket.emit("echo", ...a));
    socket.on("ack", (...a) => {
      const cb = a.pop();
      if (typeof cb === "function") cb(...a);
    });
    socket.on("auth", (cb) => cb(socket.handshake.auth));
    socket.on("ask", async (name, ...a) => {
      try {
        const answer = await socket.timeout(5000).emitWithAck(name, ...a);
        socket.emit("answer", answer);
      } catch (e) {
        socket.emit("answer", { error: String(e.message) });
      }
    });
    socket.on("noack", () => {});
    socket.on("flaky", (key, n, cb) => {
      const k = nsp.name + key;
      const c = (deliveries.get(k) || 0) + 1;
      deliveries.set(k, c);
      if (c > n && typeof cb === "function") cb(c);
    });
    socket.on("count", (key, cb) => cb(deliveries.get(nsp.name + key) || 0));
    socket.on("disconnect-me", () => socket.disconnect());
    socket.on("close-me", () => socket.conn.close());
    socket.on("broadcast", (n, cb) => {
      for (let i = 0; i < n; i++) nsp.emit("tick", i);
      if (typeof cb === "function") cb();
    });
    socket.on("emit-when-gone", (sid, n, cb) => {
      const emit = () => {
        for (let i = 0; i < n; i++) nsp.emit("missed", i);
        cb();
      };
      const s = nsp.sockets.get(sid);
      if (!s) return emit();
      s.once("disconnect", () => setImmediate(emit));
    });
  });
}

setup(io.of("/"));
const admin = io.of("/admin");
admin.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { code: 401 };
  next(err);
});
setup(admin);

http.listen(Number(port), "127.0.0.1", () => console.log(JSON.stringify({ ev: "listening", port: Number(port) })));
process.on("SIGTERM", () => process.exit(0));
