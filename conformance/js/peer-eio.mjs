// peer-eio.mjs runs the reference engine.io 6.6 server (from
// conformance/node_modules) for the tests of gosio's Go Engine.IO client
// (engineio/client_test.go):
//
//   node js/peer-eio.mjs <port> [pingInterval] [pingTimeout]
//
// It prints {"ev":"listening","port":N} when ready and one JSON line per
// session event: {"ev":"connection","id":...,"transport":...},
// {"ev":"upgrade","id":...}, {"ev":"close","id":...,"reason":...}. Every
// message goes back as it came (text or binary), except the text
// "cmd:close", answered with "bye" before the server closes the session.
import { createServer } from "node:http";
import { Server } from "engine.io";

const [port = "3000", pingInterval = "25000", pingTimeout = "20000"] = process.argv.slice(2);
const http = createServer();
const eio = new Server({ pingInterval: Number(pingInterval), pingTimeout: Number(pingTimeout) });
eio.attach(http);
const log = (o) => console.log(JSON.stringify(o));
eio.on("connection", (socket) => {
  log({ ev: "connection", id: socket.id, transport: socket.transport.name });
  socket.on("upgrade", () => log({ ev: "upgrade", id: socket.id }));
  socket.on("message", (data) => {
    if (data === "cmd:close") {
      socket.send("bye");
      socket.close();
      return;
    }
    socket.send(data);
  });
  socket.on("close", (reason) => log({ ev: "close", id: socket.id, reason }));
});
http.listen(Number(port), "127.0.0.1", () => log({ ev: "listening", port: Number(port) }));
process.on("SIGTERM", () => process.exit(0));
