// sio-v2-node-server.mjs runs a real Node socket.io 4.8 server with
// allowEIO3 (from conformance/node_modules) holding the events of
// js/sio-v2-client.mjs, as gosio's server in sio_v2_test.go does, so that the
// tests run the socket.io-client 2.x script against both.
//
//   node js/sio-v2-node-server.mjs
//
// It listens on a free port of 127.0.0.1, prints {"ev":"listening","port":N}
// and runs until its stdin closes or its watchdog fires (timeout=MS,
// default 60000).

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
const io = new Server(http, { allowEIO3: true, pingInterval: 300, pingTimeout: 1000 });

io.on("connection", (s) => {
  s.emit("hello", "world", Buffer.from([0xca, 0xfe]));
  s.on("echo", (...args) => args.pop()(...args));
  s.on("bin", (b, obj, cb) => {
    const r = Buffer.from(b).reverse();
    cb(r, { len: r.length, nested: obj.nested });
  });
  s.on("ask", (cb) => {
    s.timeout(5000).emit("question", Buffer.from([9, 8]), { q: 41 }, (err, ...res) => cb(...(err ? [`error: ${err}`] : res)));
  });
  s.on("join", (room, cb) => {
    s.join(room);
    cb([...s.rooms].sort());
  });
  s.on("shout", (room, ...args) => {
    const cb = args.pop();
    (room ? s.to(room) : s.broadcast).emit("shout", ...args);
    cb();
  });
  s.on("drop-me", (action) => {
    switch (action) {
      case "close-conn":
        s.conn.close();
        break;
      case "disconnect":
        s.disconnect(false);
        break;
      case "disconnect-close":
        s.disconnect(true);
        break;
    }
  });
  s.on("hello-again", (cb) => cb("welcome back", s.id));
});
io.of("/custom").on("connection", (s) => {
  s.emit("auth", s.handshake.auth);
  s.on("echo", (...args) => args.pop()("/custom", ...args));
});
io.of("/private").use((_s, next) => next(new Error("not authorized")));
io.of("/data").use((_s, next) => {
  const err = new Error("ignored");
  err.data = { code: 42 };
  next(err);
});

http.listen(0, "127.0.0.1", () => out({ ev: "listening", port: http.address().port }));
