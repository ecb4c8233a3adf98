// ref_server.mjs runs the reference engine.io server (from
// conformance/node_modules) with the behaviour eio_client.mjs expects: echo
// every message as it came; answer the text "cmd:close" with "bye" and close.
// It is a debugging aid for comparing gosio's server with the reference:
//
//   node js/ref_server.mjs <port> [pingInterval] [pingTimeout]
import { createServer } from "node:http";
import { Server } from "engine.io";

const [port = "3000", pingInterval = "25000", pingTimeout = "20000"] = process.argv.slice(2);
const http = createServer();
const eio = new Server({ pingInterval: Number(pingInterval), pingTimeout: Number(pingTimeout) });
eio.attach(http);
eio.on("connection", (socket) => {
  console.log(JSON.stringify({ ev: "connection", id: socket.id, transport: socket.transport.name }));
  socket.on("upgrade", (t) => console.log(JSON.stringify({ ev: "upgrade", id: socket.id, transport: t.name })));
  socket.on("message", (data) => {
    if (data === "cmd:close") {
      socket.send("bye");
      socket.close();
      return;
    }
    socket.send(data);
  });
  socket.on("close", (reason, desc) =>
    console.log(JSON.stringify({ ev: "close", id: socket.id, reason, transport: socket.transport.name, desc: String(desc ?? "") })),
  );
});
http.listen(Number(port), "127.0.0.1", () => console.log(JSON.stringify({ ev: "listening", port: Number(port) })));
