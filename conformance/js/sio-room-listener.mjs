// sio-room-listener.mjs: one real socket.io-client in the room "r" of
// gosio's server, for the Go test of what the server relays to a room
// (utf8_room_test.go). It emits "join" (the server joins it to "r" and
// acks), prints {"ev":"ready"}, then one {"ev":"relay","args":[...]} line
// per "relay" event, and ends with {"ev":"done"} at a relay of "end". A
// disconnect or connect error is a failure: the client must stay connected.
//
//   node js/sio-room-listener.mjs <url> [mode=polling|websocket] [timeout=MS]
import { io } from "socket.io-client";

const [url, ...rest] = process.argv.slice(2);
const opt = Object.fromEntries(rest.map((kv) => kv.split(/=(.*)/s, 2)));
const mode = opt.mode ?? "websocket";
const t0 = Date.now();
const out = (obj) => process.stdout.write(JSON.stringify({ ...obj, t: Date.now() - t0 }) + "\n");
function fail(why) {
  out({ ev: "fail", why: String(why?.stack ?? why) });
  process.exit(1);
}
process.on("unhandledRejection", fail);
process.on("uncaughtException", fail);
setTimeout(() => fail("timeout"), Number(opt.timeout ?? 15000)).unref();

const socket = io(url, { transports: [mode], reconnection: false, timeout: 5000 });
socket.on("connect", () => socket.emit("join", () => out({ ev: "ready" })));
socket.on("relay", (...args) => {
  out({ ev: "relay", args });
  if (args[0] === "end") {
    out({ ev: "done" });
    socket.off("disconnect");
    socket.close();
    process.exit(0);
  }
});
socket.on("disconnect", (reason, desc) =>
  fail(`disconnect: ${reason} ${String(desc?.description?.message ?? desc?.description ?? desc?.message ?? "")}`),
);
socket.on("connect_error", (err) => fail(`connect_error: ${err.message}`));
