// msgpack-node-server.mjs runs a real Node socket.io 4.8 server with the
// real socket.io-msgpack-parser for msgpack_parser_test.go
// (TestMsgpackParserGoClient), where gosio's Go client connects to it.
//
//   node js/msgpack-node-server.mjs [timeout=MS]
//
// It listens on a free port of 127.0.0.1, prints {"ev":"listening","port":N}
// and runs until its stdin closes or its watchdog fires. It prints one JSON
// line per thing the Go test checks on the server side ({"ev":"saw",...},
// {"ev":"disconnect",...}); binary is written as {"$buf":"<hex>"}.
//
// Namespace "/" (and "/admin") refuse a CONNECT whose auth.token is not
// "secret" with err.data {code: 42, why: "bad token"}. Events:
//   echo ...args, cb     emits "echo-back" with the args, acks them
//   types s, n, o, b, cb acks "ok" when s is a string, n a number, o an
//                        object and b a Buffer (else a description)
//   ask-me cb            emitWithAck("question", Buffer[9,8,7], {q:41}) to
//                        the client, acks {answer, bin} from its answer
//   join room, cb        joins room, acks "joined"
//   shout room, cb       io.to(room).emit("news", "hello room", Buffer[5],
//                        {from: id}), acks the room's size
//   /admin whoami b, cb  acks (nsp name, b.length)
//   /admin kick-me       disconnects the socket

import { createServer } from "node:http";
import { createRequire } from "node:module";
import { Server } from "socket.io";

const require = createRequire(import.meta.url);
const parser = require("socket.io-msgpack-parser");

const opt = Object.fromEntries(process.argv.slice(2).map((kv) => kv.split(/=(.*)/s, 2)));
const timeoutMs = Number(opt.timeout ?? 60000);
const show = (v) =>
  JSON.parse(
    JSON.stringify(v ?? null, (k, x) => (x && x.type === "Buffer" && Array.isArray(x.data) ? { $buf: Buffer.from(x.data).toString("hex") } : x)),
  );
const out = (obj) => process.stdout.write(JSON.stringify(show(obj)) + "\n");
setTimeout(() => {
  out({ ev: "fail", why: `watchdog after ${timeoutMs}ms` });
  process.exit(1);
}, timeoutMs).unref();
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();

const http = createServer();
const io = new Server(http, { parser, pingInterval: 2000, pingTimeout: 3000 });

const auth = (socket, next) => {
  if (socket.handshake.auth?.token !== "secret") {
    const err = new Error("not authorized");
    err.data = { code: 42, why: "bad token" };
    return next(err);
  }
  next();
};
io.use(auth);
io.of("/admin").use(auth);

io.on("connection", (socket) => {
  out({ ev: "saw", what: "connect", nsp: "/", auth: socket.handshake.auth });
  socket.on("disconnect", (reason) => out({ ev: "disconnect", nsp: "/", id: socket.id, reason }));
  socket.emit("welcome", socket.handshake.auth, Buffer.from([1, 2, 3]));
  socket.on("echo", (...args) => {
    const cb = args.pop();
    socket.emit("echo-back", ...args);
    cb(...args);
  });
  socket.on("types", (s, n, o, b, cb) => {
    const ok = typeof s === "string" && typeof n === "number" && o && typeof o === "object" && !Array.isArray(o) && Buffer.isBuffer(b);
    out({ ev: "saw", what: "types", args: [s, n, o, b], bufferIsBuffer: Buffer.isBuffer(b) });
    cb(ok ? "ok" : `wrong: ${typeof s} ${typeof n} ${typeof o} ${Object.prototype.toString.call(b)}`);
  });
  socket.on("ask-me", async (cb) => {
    try {
      const [answer, bin] = await new Promise((resolve, reject) => {
        socket.timeout(5000).emit("question", Buffer.from([9, 8, 7]), { q: 41 }, (err, ...res) => (err ? reject(err) : resolve(res)));
      });
      out({ ev: "saw", what: "answer", answer, bin, binIsBuffer: Buffer.isBuffer(bin) });
      cb({ answer, bin });
    } catch (e) {
      cb("error: " + e.message);
    }
  });
  socket.on("join", (room, cb) => {
    socket.join(room);
    cb("joined");
  });
  socket.on("shout", (room, cb) => {
    io.to(room).emit("news", "hello room", Buffer.from([5]), { from: socket.id });
    cb(io.of("/").adapter.rooms.get(room)?.size ?? 0);
  });
});

io.of("/admin").on("connection", (socket) => {
  out({ ev: "saw", what: "connect", nsp: "/admin", auth: socket.handshake.auth });
  socket.on("disconnect", (reason) => out({ ev: "disconnect", nsp: "/admin", id: socket.id, reason }));
  socket.on("whoami", (b, cb) => cb(socket.nsp.name, Buffer.isBuffer(b) ? b.length : -1));
  socket.on("kick-me", () => socket.disconnect());
});

http.listen(0, "127.0.0.1", () => out({ ev: "listening", port: http.address().port }));
