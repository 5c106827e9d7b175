#!/usr/bin/env node
// End-to-end test of the examples in real Chromium: Latchkey (`latchkey serve`), the
// FastAPI tasks API (uvicorn) and this Next.js app (`next start`, built beforehand with
// `next build`), all on 127.0.0.1 in a fresh temporary folder.
//
//   1. user A signs up at Latchkey (from the app's sign-in), verifies the address with the
//      link from the mail outbox, signs in, lands back in the app, adds a task and sees it;
//      the access token is then refreshed on the server and the tasks are still there
//   2. user B (made with the CLI) signs in in another browser and sees only B's tasks
//   3. user A signs out: the app sends the browser through Latchkey's /logout, and signing
//      in again shows Latchkey's login page (the Latchkey session ended too)
//
// Exit code 0 only when every scenario passed; the last line is "N passed, M failed".
//
//   LATCHKEY_BIN   default ../../target/debug/latchkey
//   API_PYTHON     Python with the API's requirements (default ../fastapi-tasks/.venv/bin/python)
//   CHROMIUM_PATH  default /usr/bin/chromium
//   E2E_KEEP_TMP=1 keep the temporary folder (logs, screenshots)

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const APP_DIR = path.resolve(HERE, '..');
const API_DIR = path.resolve(APP_DIR, '../fastapi-tasks');
const OVERALL_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 150_000);
const READY_TIMEOUT_MS = 30_000;
const CLI_TIMEOUT_MS = 20_000;
const STEP_TIMEOUT_MS = 20_000;
const LATCHKEY_BIN = path.resolve(process.env.LATCHKEY_BIN || path.join(APP_DIR, '../../target/debug/latchkey'));
const API_PYTHON = path.resolve(process.env.API_PYTHON || path.join(API_DIR, '.venv/bin/python'));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const API_AUDIENCE = 'http://127.0.0.1/tasks-api';
// Access tokens live 65 s and the app refreshes 60 s before expiry: after 5 s, the next
// page load refreshes.
const ACCESS_TOKEN_TTL_S = 65;
const REFRESH_AFTER_MS = (ACCESS_TOKEN_TTL_S - 60) * 1000 + 1500;

const A = { email: 'alice@example.com', name: 'Alice', password: 'alpha velvet orbit lantern' };
const B = { email: 'bob@example.com', name: 'Bob', password: 'bravo velvet orbit lantern' };

const LATCHKEY_VARS = /^(LATCHKEY_|OIDC_|GOOGLE_|GITHUB_|NEXTAUTH_)|^(DATABASE_URL|SMTP_URL|MAIL_FROM|RUST_LOG|ACCESS_TOKEN_TTL|REFRESH_TOKEN_TTL|ID_TOKEN_TTL|SESSION_TTL|EMAIL_VERIFY_TTL|API_AUDIENCE|DATABASE_PATH|TASKS_API_URL)$/;

const started = Date.now();
let currentStep = 'starting';
let tmp = '';
const procs = []; // { name, child, exit, log: [] }
let browserServer = null;
let browser = null;
const results = [];
const SCENARIOS = [
  'user A signs up, verifies, signs in through the app, adds a task, token refresh',
  'user B signs in and sees only their own tasks',
  'sign-out ends the Latchkey session too',
];

function log(msg) {
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
}
function step(name) {
  currentStep = name;
  log(name);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
function killPid(pid, signal) {
  try { process.kill(pid, signal); } catch { /* gone */ }
}
function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

// ---------------------------------------------------------------------------------------
// processes

function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !LATCHKEY_VARS.test(k)));
}

function cli(args, env, input = '') {
  return new Promise((resolve, reject) => {
    const child = spawn(LATCHKEY_BIN, args, { env, cwd: tmp, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`latchkey ${args.join(' ')}: ${signal || `exit ${code}`}: ${stderr.trim()}`));
      try { resolve(JSON.parse(stdout)); } catch { reject(new Error(`latchkey ${args.join(' ')} printed no JSON: ${stdout}`)); }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** Start a long-running process; its output goes to TMP/<name>.log. */
function startProc(name, cmd, args, { env, cwd, detached = false }) {
  const out = fs.createWriteStream(path.join(tmp, `${name}.log`));
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached });
  const p = { name, child, exit: null, log: [] };
  const keep = (d) => {
    out.write(d);
    for (const line of String(d).split('\n')) if (line.trim()) p.log.push(line);
    p.log.splice(0, Math.max(0, p.log.length - 30));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('error', (err) => (p.exit = { error: err.message }));
  child.on('exit', (code, signal) => { p.exit = { code, signal }; out.end(); });
  procs.push(p);
  return p;
}

async function waitHttp(p, url) {
  const until = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < until) {
    if (p.exit) throw new Error(`${p.name} exited before it was ready: ${JSON.stringify(p.exit)}\n${p.log.join('\n')}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
      if (res.status < 500) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code || err.message;
    }
    await sleep(250);
  }
  throw new Error(`${url} not ready within ${READY_TIMEOUT_MS / 1000} s (last: ${last})`);
}

async function freePorts(n) {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    if (browser) await withTimeout(browser.close(), 5000).catch(() => {});
    if (browserServer) {
      const pid = browserServer.process()?.pid;
      await withTimeout(browserServer.close(), 5000).catch(() => {});
      if (pid && alive(pid)) killPid(-pid, 'SIGKILL');
    }
    for (const p of [...procs].reverse()) {
      if (p.exit) continue;
      killPid(p.child.pid, 'SIGTERM');
      const until = Date.now() + 5000;
      while (!p.exit && Date.now() < until) await sleep(50);
      if (!p.exit) {
        log(`${p.name} (pid ${p.child.pid}) ignored SIGTERM for 5 s: SIGKILL`);
        killPid(p.child.pid, 'SIGKILL');
      }
    }
  })();
  return cleaning;
}
process.on('exit', () => {
  for (const p of procs) if (!p.exit) killPid(p.child.pid, 'SIGKILL');
  const bpid = browserServer?.process()?.pid;
  if (bpid && alive(bpid)) killPid(-bpid, 'SIGKILL');
});

// ---------------------------------------------------------------------------------------
// browser helpers

async function bodyText(page) {
  const text = await page.locator('body').innerText({ timeout: 2000 }).catch(() => '');
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat ? `"${flat.slice(0, 400)}"` : '(empty page)';
}

async function expectAt(page, origin, pathname, what) {
  const url = new URL(page.url());
  if (url.origin === origin && url.pathname === pathname) return;
  throw new Error(`expected ${what} at ${origin}${pathname}, but the browser is at ${page.url()}: ${await bodyText(page)}`);
}

async function waitForUrl(page, origin, pathname, what) {
  try {
    await page.waitForURL((u) => u.origin === origin && u.pathname === pathname, { timeout: STEP_TIMEOUT_MS });
    await page.waitForLoadState('load');
  } catch {
    await expectAt(page, origin, pathname, what);
  }
}

async function submit(page, control) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), control.click()]);
}

async function login(page, user) {
  await page.locator('input[name="email"]').fill(user.email);
  await page.locator('input[name="password"]').fill(user.password);
  const form = page.locator('form').filter({ has: page.locator('input[name="password"]') });
  await submit(page, form.locator('button[type="submit"], button:not([type])').first());
}

/** From the app's signed-out home page, click "Sign in with Latchkey": lands at Latchkey. */
async function startSignIn(page, ctx) {
  await page.goto(`${ctx.appUrl}/`);
  await page.getByRole('button', { name: 'Sign in with Latchkey' }).click();
  await waitForUrl(page, ctx.issuer, '/login', "Latchkey's login page");
}

async function signedInHome(page, ctx, user) {
  await waitForUrl(page, ctx.appUrl, '/', "the app's home page");
  const who = await page.locator('#who').innerText({ timeout: STEP_TIMEOUT_MS }).catch(() => '');
  if (who !== user.email) throw new Error(`the app does not say "Signed in as ${user.email}": ${await bodyText(page)}`);
}

async function taskTitles(page) {
  if ((await page.locator('#tasks').count()) === 0) {
    if ((await page.locator('#no-tasks').count()) === 1) return [];
    throw new Error(`no task list on the page: ${await bodyText(page)}`);
  }
  return page.locator('#tasks li').allInnerTexts();
}

async function addTask(page, title) {
  await page.locator('input[name="title"]').fill(title);
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/', { timeout: STEP_TIMEOUT_MS }),
    page.getByRole('button', { name: 'Add' }).click(),
  ]);
  await page.locator('#tasks li', { hasText: title }).first().waitFor({ timeout: STEP_TIMEOUT_MS }).catch(async () => {
    throw new Error(`task "${title}" not listed after adding it: ${await bodyText(page)}`);
  });
}

async function verificationLink(to) {
  const outbox = path.join(tmp, 'data', 'outbox');
  for (let i = 0; i < 100; i++) {
    const names = await fsp.readdir(outbox).catch(() => []);
    for (const name of names.filter((n) => n.endsWith('.eml'))) {
      const raw = (await fsp.readFile(path.join(outbox, name), 'utf8')).replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      if (!raw.includes(to)) continue;
      const match = raw.match(/https?:\/\/\S+\/verify-email\?token=[A-Za-z0-9_-]+/);
      if (match) return match[0];
    }
    await sleep(100);
  }
  throw new Error(`no verification mail to ${to} in ${outbox}`);
}

async function shot(page, name) {
  const file = path.join(tmp, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, timeout: 5000 }).catch(() => {});
  return file;
}

// ---------------------------------------------------------------------------------------
// scenarios

const contexts = {};

async function scenarioA(ctx) {
  const context = (contexts.a = await browser.newContext());
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  step('A: open the app, sign in, follow "Create an account" at Latchkey');
  await startSignIn(page, ctx);
  await submit(page, page.getByRole('link', { name: 'Create an account' }));
  await expectAt(page, ctx.issuer, '/signup', 'the sign-up page');
  await page.locator('input[name="email"]').fill(A.email);
  await page.locator('input[name="name"]').fill(A.name);
  await page.locator('input[name="password"]').fill(A.password);
  await page.locator('input[name="password_confirm"]').fill(A.password);
  await submit(page, page.locator('form button[type="submit"]'));
  if (!(await page.locator('body').innerText()).includes('Check your email')) {
    throw new Error(`expected "Check your email": ${await bodyText(page)}`);
  }

  step('A: open the verification link from the outbox, sign in, back in the app');
  await page.goto(await verificationLink(A.email));
  await expectAt(page, ctx.issuer, '/login', 'the login page after verification');
  await login(page, A);
  await signedInHome(page, ctx, A);
  const before = await taskTitles(page);
  if (before.length) throw new Error(`a new user already has tasks: ${before}`);

  step('A: tokens stay on the server: HTTP-only cookie, none in /api/auth/session or storage');
  const sessionCookie = (await context.cookies(ctx.appUrl)).find((c) => c.name === 'next-auth.session-token');
  if (!sessionCookie?.httpOnly) throw new Error(`the session cookie is missing or not HttpOnly: ${JSON.stringify(sessionCookie)}`);
  const exposed = await page.evaluate(async () => ({
    session: await (await fetch('/api/auth/session')).text(),
    storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    cookies: document.cookie,
  }));
  for (const [where, text] of Object.entries(exposed)) {
    if (/eyJ|access_?token|refresh_?token|id_?token/i.test(text)) throw new Error(`a token is visible to scripts in ${where}: ${text.slice(0, 200)}`);
  }
  if (!exposed.session.includes(A.email)) throw new Error(`/api/auth/session does not name the user: ${exposed.session}`);

  step('A: add a task, see it');
  await addTask(page, 'A: water the plants');
  await addTask(page, 'A: renew the passport');
  const titles = await taskTitles(page);
  if (titles.join('|') !== 'A: water the plants|A: renew the passport') throw new Error(`A's tasks: ${JSON.stringify(titles)}`);
  log(`screenshot: ${await shot(page, 'a-tasks')}`);

  step('A: wait until the access token is due for a refresh, reload');
  const expires1 = await page.locator('#token-expires').innerText();
  await sleep(REFRESH_AFTER_MS);
  await page.reload({ waitUntil: 'load' });
  await signedInHome(page, ctx, A);
  const expires2 = await page.locator('#token-expires').innerText();
  if (expires2 === expires1) throw new Error(`the access token was not refreshed (still valid until ${expires1})`);
  const after = await taskTitles(page);
  if (after.length !== 2) throw new Error(`after the refresh, A's tasks are ${JSON.stringify(after)}: ${await bodyText(page)}`);
  log(`token refreshed: valid until ${expires1} -> ${expires2}`);
  await addTask(page, 'A: after refresh');
}

async function scenarioB(ctx) {
  const context = (contexts.b = await browser.newContext());
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  step('B: sign in in another browser');
  await startSignIn(page, ctx);
  await login(page, B);
  await signedInHome(page, ctx, B);
  const first = await taskTitles(page);
  if (first.length) throw new Error(`B sees tasks that are not B's: ${JSON.stringify(first)}`);
  step("B: add a task; B's list holds only it");
  await addTask(page, 'B: call the plumber');
  const titles = await taskTitles(page);
  if (titles.join('|') !== 'B: call the plumber') throw new Error(`B's tasks: ${JSON.stringify(titles)}`);
  log(`screenshot: ${await shot(page, 'b-tasks')}`);

  step("A: still sees only A's tasks");
  const pageA = contexts.a.pages()[0];
  await pageA.reload({ waitUntil: 'load' });
  const aTitles = await taskTitles(pageA);
  if (aTitles.some((t) => t.startsWith('B:')) || aTitles.length !== 3) throw new Error(`A's tasks: ${JSON.stringify(aTitles)}`);
}

async function scenarioSignOut(ctx) {
  const page = contexts.a.pages()[0];
  step('A: control: with only the app cookie gone, signing in needs no password (Latchkey session)');
  await contexts.a.clearCookies({ name: /next-auth/ });
  await page.goto(`${ctx.appUrl}/`);
  await page.getByRole('button', { name: 'Sign in with Latchkey' }).click();
  await signedInHome(page, ctx, A);

  step('A: sign out');
  const logoutSeen = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (r.isNavigationRequest() && u.origin === ctx.issuer && u.pathname === '/logout') logoutSeen.push(u);
  });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await waitForUrl(page, ctx.appUrl, '/', "the app's home page after sign-out");
  await page.getByRole('button', { name: 'Sign in with Latchkey' }).waitFor({ timeout: STEP_TIMEOUT_MS });
  if (!logoutSeen.length) throw new Error('sign-out did not go through Latchkey /logout');
  const hint = logoutSeen[0].searchParams;
  if (!hint.get('id_token_hint') || hint.get('post_logout_redirect_uri') !== `${ctx.appUrl}/`) {
    throw new Error(`unexpected logout request: ${logoutSeen[0]}`);
  }
  const cookies = await contexts.a.cookies(ctx.appUrl);
  if (cookies.some((c) => c.name.includes('next-auth.session-token'))) throw new Error('the app session cookie is still set');

  step('A: signing in again shows the Latchkey login page (its session ended)');
  await startSignIn(page, ctx);
  if ((await page.locator('input[name="password"]').count()) !== 1) throw new Error(`no login form: ${await bodyText(page)}`);
  log(`screenshot: ${await shot(page, 'a-after-signout')}`);
}

// ---------------------------------------------------------------------------------------
// main

async function setup() {
  step('checking prerequisites');
  for (const [file, hint] of [
    [LATCHKEY_BIN, 'run `cargo build`, or set LATCHKEY_BIN'],
    [API_PYTHON, 'create examples/fastapi-tasks/.venv (see its README), or set API_PYTHON'],
    [CHROMIUM, '`apt-get install -y chromium`, or set CHROMIUM_PATH'],
  ]) {
    try { await fsp.access(file, fs.constants.X_OK); } catch { throw new Error(`missing ${file}: ${hint}`); }
  }
  try { await fsp.access(path.join(APP_DIR, '.next', 'BUILD_ID')); } catch {
    throw new Error('the app is not built: run `npx next build` in examples/nextjs-app');
  }

  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'latchkey-examples-e2e-'));
  log(`work folder ${tmp}`);
  const [lkPort, apiPort, appPort] = await freePorts(3);
  const issuer = `http://127.0.0.1:${lkPort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const appUrl = `http://127.0.0.1:${appPort}`;
  const base = cleanEnv();
  const lkEnv = {
    ...base,
    LATCHKEY_BIND: `127.0.0.1:${lkPort}`,
    LATCHKEY_ISSUER: issuer,
    DATABASE_URL: `sqlite://${tmp}/data/latchkey.db`,
    LATCHKEY_DATA_DIR: `${tmp}/data`,
    LATCHKEY_KEYS_DIR: `${tmp}/keys`,
    ACCESS_TOKEN_TTL: `${ACCESS_TOKEN_TTL_S}s`,
    RUST_LOG: 'warn',
  };

  step('latchkey user create (B) and client create');
  await cli(['user', 'create', '--email', B.email, '--name', B.name, '--password-stdin', '--verified', '--json'], lkEnv, `${B.password}\n`);
  const client = await cli([
    'client', 'create', '--name', 'Tasks (Next.js)',
    '--redirect-uri', `${appUrl}/api/auth/callback/latchkey`,
    '--post-logout-redirect-uri', `${appUrl}/`,
    '--skip-consent', '--grant', 'authorization_code', '--grant', 'refresh_token',
    '--resource', API_AUDIENCE, '--json',
  ], lkEnv);

  step(`latchkey serve on ${issuer}`);
  const lk = startProc('latchkey', LATCHKEY_BIN, ['serve'], { env: lkEnv, cwd: tmp });
  await waitHttp(lk, `${issuer}/readyz`);

  step(`tasks API on ${apiUrl}`);
  const api = startProc('api', API_PYTHON, ['-m', 'uvicorn', 'app:app', '--host', '127.0.0.1', '--port', String(apiPort)], {
    cwd: API_DIR,
    env: { ...base, LATCHKEY_ISSUER: issuer, API_AUDIENCE, DATABASE_PATH: path.join(tmp, 'tasks.db') },
  });
  await waitHttp(api, `${apiUrl}/healthz`);

  step(`Next.js app on ${appUrl}`);
  const app = startProc('next', process.execPath, [path.join(APP_DIR, 'node_modules/next/dist/bin/next'), 'start', '-H', '127.0.0.1', '-p', String(appPort)], {
    cwd: APP_DIR,
    env: {
      ...base,
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      NEXTAUTH_URL: appUrl,
      NEXTAUTH_SECRET: crypto.randomBytes(32).toString('base64url'),
      LATCHKEY_ISSUER: issuer,
      LATCHKEY_CLIENT_ID: client.client_id,
      LATCHKEY_CLIENT_SECRET: client.client_secret,
      API_AUDIENCE,
      TASKS_API_URL: apiUrl,
    },
  });
  await waitHttp(app, `${appUrl}/`);

  step(`launching ${CHROMIUM}`);
  browserServer = await chromium.launchServer({
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false, timeout: 30_000,
  });
  browser = await chromium.connect(browserServer.wsEndpoint(), { timeout: 15_000 });
  log(`Chromium ${browser.version()}`);
  return { issuer, apiUrl, appUrl };
}

let finishing = null;
function finish(extraError, exitCode = 1) {
  finishing ??= (async () => {
    if (extraError) log(`FAIL: ${extraError}`);
    const passed = results.filter((r) => r.ok).length;
    const failed = Math.max(SCENARIOS.length - passed, extraError ? 1 : 0);
    if (failed) {
      for (const p of procs) process.stdout.write(`--- last lines of ${p.name} (${path.join(tmp, `${p.name}.log`)})\n${p.log.join('\n')}\n`);
    }
    await withTimeout(cleanup(), 20_000).catch(() => log('cleanup did not finish in 20 s'));
    if (tmp) {
      if (!failed && process.env.E2E_KEEP_TMP !== '1') await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
      else log(`work folder kept: ${tmp}`);
    }
    process.stdout.write(`${passed} passed, ${failed} failed\n`);
    process.exit(failed ? exitCode : 0);
  })();
  return finishing;
}

async function main() {
  let ctx;
  try {
    ctx = await setup();
  } catch (err) {
    return finish(`setup failed while ${currentStep}: ${err.message}`);
  }
  const scenarios = [scenarioA, scenarioB, scenarioSignOut];
  for (let i = 0; i < scenarios.length; i++) {
    try {
      await scenarios[i](ctx);
      if (finishing) return finishing;
      results.push({ ok: true });
      log(`ok - ${SCENARIOS[i]}`);
    } catch (err) {
      if (finishing) return finishing;
      const page = Object.values(contexts).at(-1)?.pages()[0];
      if (page) log(`screenshot of the failing page: ${await shot(page, `failure-${i + 1}`)}`);
      log(`FAIL - ${SCENARIOS[i]}: ${err.message}`);
      return finish(); // later scenarios build on earlier ones
    }
    const dead = procs.find((p) => p.exit);
    if (dead) return finish(`${dead.name} stopped during the test (${JSON.stringify(dead.exit)})`);
  }
  return finish();
}

setTimeout(() => finish(`timed out after ${OVERALL_TIMEOUT_MS / 1000} s while: ${currentStep}`), OVERALL_TIMEOUT_MS).unref();
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) process.on(signal, () => finish(`interrupted by ${signal}`, code));
process.on('unhandledRejection', (err) => finish(`unexpected error: ${err?.stack || err}`));

main();
