// The TS side of the helper benchmark (bench/cmd/helperbench): the real
// SocketIOServerHelper of @venizia/ignis-helpers 0.0.7 on Redis, with the
// same callbacks and control API as `helperbench serve-go`.
//
//   node cmd/helperbench/ts-server.mjs --port P --control-port C --redis redis://127.0.0.1:R
//
// APP_ENV_LOGGER_FOLDER_PATH must name a directory: the package writes its
// winston log files there at import time. Its console transport (stdout) is
// silenced, so stdout carries only the JSON lines of this script; the file
// logs stay, as the package's default.
//
// authenticateFn: handshake.auth.token === "good". validateRoomFn: the
// requested rooms that start with "bench-".
// Control API (127.0.0.1:C):
//   POST /send-burst {destination, topic, count, data} -> count helper.send() of {n:i, ...data}
//   GET  /stats?room=R -> {clients, authenticated, room: local size of R}

import http from 'node:http';

function flag(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

if (!process.env.APP_ENV_LOGGER_FOLDER_PATH) {
  process.stderr.write('ts-server.mjs: set APP_ENV_LOGGER_FOLDER_PATH to a directory for the package logs\n');
  process.exit(2);
}
const port = Number(flag('port'));
const controlPort = Number(flag('control-port'));
const redisUrl = new URL(flag('redis', 'redis://127.0.0.1:6379'));

const sioMod = await import('@venizia/ignis-helpers/socket-io');
const rootMod = await import('@venizia/ignis-helpers');
const { SocketIOServerHelper } = sioMod.default ?? sioMod;
const root = rootMod.default ?? rootMod;
for (const t of root.applicationLogger?.transports ?? []) {
  if (t.name === 'console') t.silent = true;
}

const redis = new root.RedisHelper({
  name: 'bench-ts',
  host: redisUrl.hostname,
  port: redisUrl.port,
  autoConnect: true,
  maxRetry: 0,
});
const httpServer = http.createServer();
const helper = new SocketIOServerHelper({
  runtime: root.RuntimeModules.NODE,
  identifier: 'bench-ts',
  server: httpServer,
  redisConnection: redis,
  authenticateFn: async handshake => handshake?.auth?.token === 'good',
  validateRoomFn: ({ rooms }) => (Array.isArray(rooms) ? rooms.filter(r => typeof r === 'string' && r.startsWith('bench-')) : []),
});
await helper.configure();
await new Promise((resolve, reject) => {
  httpServer.once('error', reject);
  httpServer.listen(port, '127.0.0.1', resolve);
});

function readJSON(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

const control = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/send-burst') {
      const b = await readJSON(req);
      for (let i = 0; i < b.count; i++) {
        helper.send({ destination: b.destination, payload: { topic: b.topic, data: { n: i, text: b.data?.text } } });
      }
      res.end('{"ok":true}');
      return;
    }
    if (req.method === 'GET' && url.pathname === '/stats') {
      let clients = 0;
      let authenticated = 0;
      for (const c of helper.getClients().values()) {
        clients++;
        if (c.state === 'authenticated') authenticated++;
      }
      const room = url.searchParams.get('room');
      const size = room ? (helper.getIOServer().of('/').adapter.rooms.get(room)?.size ?? 0) : 0;
      res.end(JSON.stringify({ clients, authenticated, room: size }));
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e?.message ?? e));
  }
});
await new Promise(resolve => control.listen(controlPort, '127.0.0.1', resolve));

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, async () => {
    try {
      await helper.shutdown();
      await redis.disconnect();
    } catch {
      // exiting anyway
    }
    process.exit(0);
  });
}
process.stdout.write(JSON.stringify({ event: 'ready', impl: 'ts', pid: process.pid, port, controlPort }) + '\n');
