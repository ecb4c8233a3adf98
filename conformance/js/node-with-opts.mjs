// node-with-opts.mjs runs the reference Node cluster node (the peers'
// node-server.mjs, whose path is the first argument) with adapter options
// it has no flags for, so that mixed-cluster tests can cover them:
//
//   GOSIO_ADAPTER_OPTS='{"subscriptionMode":"static"}' node node-with-opts.mjs /tmp/peers/node-server.mjs --port ...
//
// The JSON object becomes the options argument of its createAdapter(pub,
// sub) and createShardedAdapter(pub, sub) calls. "parser": "json" stands
// for the JSON parser of the adapter's custom-parser test ({encode:
// JSON.stringify, decode: JSON.parse}).
//
// The package's exports cannot be patched (they are getters), so the
// program is run from a variant written next to it (in the test's
// temporary copy of the peers; nothing of it is kept), in which only those
// two calls get the options argument. It fails if the calls are not found.
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [, , program, ...rest] = process.argv;
if (!program) {
  console.error("usage: node node-with-opts.mjs <node-server.mjs> [its flags]");
  process.exit(2);
}
const extra = JSON.parse(process.env.GOSIO_ADAPTER_OPTS || "{}");
if (extra.parser === "json") {
  extra.parser = { encode: (msg) => JSON.stringify(msg), decode: (msg) => JSON.parse(msg) };
}
globalThis.__gosioAdapterOpts = extra;

const src = readFileSync(program, "utf8");
let n = 0;
const variant = src.replace(/\b(createClassicAdapter|createShardedAdapter)\(pub, sub\)/g, (_, fn) => {
  n++;
  return `${fn}(pub, sub, globalThis.__gosioAdapterOpts)`;
});
if (n !== 2) {
  console.error(`node-with-opts: expected 2 adapter calls in ${program}, found ${n}`);
  process.exit(2);
}
const target = path.join(path.dirname(path.resolve(program)), `.with-opts-${process.pid}.mjs`);
writeFileSync(target, variant);
process.on("exit", () => {
  try {
    unlinkSync(target);
  } catch {}
});
process.argv = [process.argv[0], target, ...rest];
await import(pathToFileURL(target).href);
