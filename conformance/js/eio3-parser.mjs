// eio3-parser.mjs encodes and decodes Engine.IO v3 polling payloads with a
// reference parser, for eio3_payload_test.go: the Go test has gosio's server
// answer with payloads the parser must read, and POSTs payloads it wrote.
// The parser is "server", engine.io 6.6's build/parser-v3 (what a Node server
// with allowEIO3 speaks), or "client", the engine.io-parser 2.2 of
// socket.io-client 2.5.0 (its Node build, lib/index.js). Both are loaded by
// path: neither package exports them.
//
//   node js/eio3-parser.mjs <server|client> encode <binary|text> <packets JSON>
//   node js/eio3-parser.mjs <server|client> decode <hex of a binary payload | text payload as a JSON string>
//
// Packets are [{"type":"message","data":"text"} | {"type":"message","hex":"0102"}, ...].
// encode prints {"hex":...} for a binary payload and {"text":...} for a
// text one; decode prints {"packets":[...]} in the same form, or
// {"error":...} for what the parser refuses.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const paths = {
  server: "../node_modules/engine.io/build/parser-v3/index.js",
  client: "../node_modules/socket.io-client-v2/node_modules/engine.io-parser/lib/index.js",
};
const [which, cmd, a, b] = process.argv.slice(2);
if (!paths[which]) {
  console.error("usage: node eio3-parser.mjs server|client encode|decode ...");
  process.exit(2);
}
const parser = require(new URL(paths[which], import.meta.url).pathname);

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const fromJSON = (p) => ({ type: p.type, data: p.hex !== undefined ? Buffer.from(p.hex, "hex") : p.data });
const toJSON = (p) =>
  Buffer.isBuffer(p.data) || p.data instanceof ArrayBuffer
    ? { type: p.type, hex: Buffer.from(p.data).toString("hex") }
    : { type: p.type, data: p.data };

switch (cmd) {
  case "encode":
    parser.encodePayload(JSON.parse(b).map(fromJSON), a === "binary", (data) =>
      out(typeof data === "string" ? { text: data } : { hex: data.toString("hex") }),
    );
    break;
  case "decode": {
    const packets = [];
    let error;
    const input = a.startsWith('"') ? JSON.parse(a) : Buffer.from(a, "hex");
    parser.decodePayload(input, (p) => {
      if (p.type === "error") error = p.data;
      else packets.push(toJSON(p));
    });
    out(error ? { error } : { packets });
    break;
  }
  default:
    console.error("usage: node eio3-parser.mjs encode|decode ...");
    process.exit(2);
}
