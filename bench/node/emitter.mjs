// The Node side of the emitter benchmark: one process that emits -n events
// "b" with @socket.io/redis-emitter 5.1.0 (default options) on a node-redis
// 5 client, and prints one JSON line with its count and duration. Same
// flags, payload and output as cmd/emit-go (cpuSeconds is the process's CPU
// time during the emits, start-up excluded).
//
// The emitter's emit() does not return the PUBLISH's promise; node-redis
// queues and pipelines the commands. To bound the queue as the Go side's
// -conc goroutines do, a PING is sent after every -conc emits and the
// sender waits for the PING before the previous one (replies come in
// order, so a PING's reply means every earlier PUBLISH was answered).
import { createClient } from "redis";
import { Emitter } from "@socket.io/redis-emitter";

const flag = (name, def) => {
  const a = process.argv.find((x) => x.startsWith(`-${name}=`));
  return a === undefined ? def : a.slice(name.length + 2);
};
const url = flag("redis", "redis://127.0.0.1:6379");
const n = Number(flag("n", "100000"));
const conc = Number(flag("conc", "64"));
const size = Number(flag("size", "100"));
const epochUS = Number(flag("epoch", "0"));
const step = Number(flag("step", "1"));

const client = createClient({ url });
client.on("error", (err) => console.error("redis:", err.message));
await client.connect();
const emitter = new Emitter(client);
const pad = "x".repeat(Math.max(0, size - 40));
// Microseconds since the epoch on the wall clock, as the Go side does.
const nowUS = () => Math.round((performance.timeOrigin + performance.now()) * 1000 - epochUS);

let errors = 0;
const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
let pending = null;
for (let i = 0; i < n; i++) {
  emitter.emit("b", { t: nowUS(), s: step, p: pad });
  if ((i + 1) % conc === 0) {
    const ping = client.ping().catch(() => { errors++; });
    if (pending) await pending;
    pending = ping;
  }
}
await client.ping();
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({ emitter: "node", emits: n, errors, seconds, cpuSeconds }));
await client.quit();
