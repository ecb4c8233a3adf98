// Drives the chat page in two headless Chromium browsers with playwright-core,
// one on each of two chat servers that share a Redis. Prints TAP-like lines,
// "plan N" first, then "ok - ..." or "not ok - ... # detail" for each check,
// and exits 1 if any failed. browser_test.go starts the servers and reads this.
//
// usage: node browser.mjs URL_A URL_B
// env:   CHROMIUM (the browser binary), CONFORMANCE_DIR (where npm installed
//        playwright-core), SCREENSHOTS (optional directory for screenshots)
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.CONFORMANCE_DIR, "package.json"));
const { chromium } = require("playwright-core");

const [urlA, urlB] = process.argv.slice(2);
const WAIT = 10_000;

const checks = [
  "A logs in as alice on server A",
  "B logs in as bob on server B",
  "A's presence shows alice and bob",
  "B's presence shows alice and bob",
  "A sees that bob is typing",
  "a message typed in B appears in A through Redis",
  "A's typing indicator clears after the message",
  "a message typed in A appears in B",
  "a denied room is refused and shown on the page",
  "the denied room gets no tab",
  "an allowed channel is joined and becomes active",
  "A leaves the channel again",
  "B's reload authenticates again",
  "B's reload shows the history again, without duplicates",
  "B's reload shows the right presence",
  "A still shows bob once after B's reload",
  "A's presence drops bob when B logs out",
];
console.log(`plan ${checks.length}`);
let n = 0;
let failed = 0;

async function check(name, fn) {
  if (name !== checks[n]) throw new Error(`check ${n} is "${name}", planned "${checks[n]}"`);
  n++;
  try {
    await fn();
    console.log(`ok ${n} - ${name}`);
  } catch (err) {
    failed++;
    console.log(`not ok ${n} - ${name} # ${String(err.message || err).split("\n").slice(0, 3).join(" | ")}`);
  }
}

// waitFor waits until the page expression fn evaluates to want (compared as JSON).
async function waitFor(page, what, fn, want) {
  const deadline = Date.now() + WAIT;
  let got;
  for (;;) {
    got = await page.evaluate(fn);
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    if (Date.now() > deadline) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    await page.waitForTimeout(50);
  }
}

async function login(page, url, user) {
  await page.goto(url);
  await page.fill("#user", user);
  await page.click("#login-button");
  await page.waitForSelector('#status[data-state="authenticated"]', { timeout: WAIT });
  await page.waitForSelector('#tabs button.active[data-room="general"]', { timeout: WAIT });
}

const launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const browserA = await launch();
const browserB = await launch();
const pageA = await (await browserA.newContext()).newPage();
const pageB = await (await browserB.newContext()).newPage();
for (const [p, name] of [[pageA, "A"], [pageB, "B"]]) {
  p.on("pageerror", (err) => console.log(`# page ${name} error: ${err.message}`));
  p.on("console", (m) => { if (m.type() === "error") console.log(`# page ${name} console: ${m.text()}`); });
}

// sel is a page expression: the texts of the elements matching s.
const sel = (s) => `[...document.querySelectorAll(${JSON.stringify(s)})].map((e) => e.textContent)`;
const list = (page, s) => page.evaluate(sel(s));
const listIs = (page, what, s, want) => waitFor(page, what, sel(s), want);

try {
  await check(checks[0], async () => {
    await login(pageA, urlA, "alice");
    await listIs(pageA, "server", "#server", ["server A"]);
  });
  await check(checks[1], async () => {
    await login(pageB, urlB, "bob");
    await listIs(pageB, "server", "#server", ["server B"]);
  });
  await check(checks[2], () => listIs(pageA, "presence", "#presence li", ["alice", "bob"]));
  await check(checks[3], () => listIs(pageB, "presence", "#presence li", ["alice", "bob"]));

  await check(checks[4], async () => {
    await pageB.click("#message-input");
    await pageB.keyboard.type("hello from", { delay: 20 });
    await listIs(pageA, "typing", "#typing", ["bob is typing…"]);
  });
  await check(checks[5], async () => {
    await pageB.keyboard.type(" B");
    await pageB.keyboard.press("Enter");
    await listIs(pageA, "messages", "#messages li .text", ["hello from B"]);
    await listIs(pageA, "via", "#messages li .user", ["bob"]);
    const meta = await list(pageA, "#messages li .meta");
    if (!meta[0].endsWith("via B")) throw new Error(`meta ${meta[0]}: not taken by server B`);
  });
  await check(checks[6], () => listIs(pageA, "typing", "#typing", [""]));
  await check(checks[7], async () => {
    await pageA.fill("#message-input", "hi from A");
    await pageA.click("#send-button");
    await listIs(pageB, "messages", "#messages li .text", ["hello from B", "hi from A"]);
  });

  await check(checks[8], async () => {
    await pageA.fill("#join-input", "admin");
    await pageA.click("#join-button");
    await listIs(pageA, "notice", '#notices li[data-room="admin"]', ['Room "admin" refused: no such channel']);
  });
  await check(checks[9], () => listIs(pageA, "tabs", "#tabs button", ["#general"]));
  await check(checks[10], async () => {
    await pageA.click('#channels button[data-channel="random"]');
    await listIs(pageA, "tabs", "#tabs button", ["#general", "#random"]);
    await listIs(pageA, "active tab", "#tabs button.active", ["#random"]);
    await listIs(pageA, "random's presence", "#presence li", ["alice"]);
    await listIs(pageA, "random's messages", "#messages li", []);
  });
  await check(checks[11], async () => {
    await pageA.click("#leave-button");
    await listIs(pageA, "tabs", "#tabs button", ["#general"]);
    await listIs(pageA, "active tab", "#tabs button.active", ["#general"]);
  });

  await check(checks[12], async () => {
    await pageB.reload();
    await pageB.waitForSelector('#status[data-state="authenticated"]', { timeout: WAIT });
    await listIs(pageB, "whoami", "#whoami", ["bob"]);
  });
  await check(checks[13], () => listIs(pageB, "messages", "#messages li .text", ["hello from B", "hi from A"]));
  await check(checks[14], () => listIs(pageB, "presence", "#presence li", ["alice", "bob"]));
  await check(checks[15], () => listIs(pageA, "presence", "#presence li", ["alice", "bob"]));
  await check(checks[16], async () => {
    await pageB.click("#logout");
    await listIs(pageA, "presence", "#presence li", ["alice"]);
  });

  if (process.env.SCREENSHOTS) {
    await pageA.screenshot({ path: path.join(process.env.SCREENSHOTS, "chat-a.png") });
    await pageB.screenshot({ path: path.join(process.env.SCREENSHOTS, "chat-b.png") });
  }
} catch (err) {
  failed++;
  console.log(`not ok - the scenario stopped # ${err.message}`);
} finally {
  await browserA.close();
  await browserB.close();
}
if (n !== checks.length) {
  console.log(`not ok - ran ${n} of ${checks.length} checks`);
  failed++;
}
process.exit(failed ? 1 : 0);
