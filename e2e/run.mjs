#!/usr/bin/env node
// End-to-end browser test: a real relying party (rp.mjs, openid-client) signs a user in
// through a real `latchkey serve` with headless Chromium.
//
//   1. sign-in:       RP / -> Latchkey /login -> /consent (approve) -> RP /cb says
//                     "Signed in as e2e@example.com" (the ID token was validated by the RP)
//   2. wrong password: /login shows "Invalid email or password" and keeps the email
//
// Everything runs on 127.0.0.1 in a fresh temporary folder (database, keys, logs,
// screenshots). Exit code 0 only when every scenario passed; the last line is
// "N passed, M failed". See README.md for the knobs.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startRp } from './rp.mjs';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  ADMIN_SCENARIOS,
  VICTIM_EMAIL,
  VICTIM_PASSWORD,
  scenarioAdminClient,
  scenarioAdminUsers,
} from './admin.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OVERALL_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 180_000);
const READY_TIMEOUT_MS = 20_000;
const CLI_TIMEOUT_MS = 20_000;
const STEP_TIMEOUT_MS = 15_000;
const LATCHKEY_BIN = process.env.LATCHKEY_BIN
  ? path.resolve(process.env.LATCHKEY_BIN)
  : path.resolve(HERE, '../target/debug/latchkey');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const EMAIL = 'e2e@example.com';
const NAME = 'E2E User';
const PASSWORD = 'correct horse battery staple';

// Variables Latchkey reads (README, "Configuration"): none may leak in from the caller's
// shell, so the run is the same on a developer's machine and in CI.
const LATCHKEY_VARS = /^(LATCHKEY_|OIDC_|GOOGLE_|GITHUB_)|^(DATABASE_URL|SMTP_URL|MAIL_FROM|RUST_LOG|ACCESS_TOKEN_TTL|REFRESH_TOKEN_TTL|ID_TOKEN_TTL|SESSION_TTL|EMAIL_VERIFY_TTL)$/;

const started = Date.now();
let currentStep = 'starting';
let tmp = '';
let serve = null; // the `latchkey serve` ChildProcess
let serveExit = null; // { code, signal } once it exited
const serveLog = []; // last lines of its output
let browserServer = null;
let browser = null;
let rp = null;
const running = new Set(); // PIDs of short-lived CLI invocations
const results = []; // { name, ok, error }
const SCENARIOS = [
  'sign-in through Latchkey with consent',
  'wrong password is refused on the login page',
  'sign-up, email verification, then sign-in',
  ...ADMIN_SCENARIOS,
];

function log(msg) {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[${t}s] ${msg}\n`);
}

function step(name) {
  currentStep = name;
  log(name);
}

// ---------------------------------------------------------------------------------------
// processes

function latchkeyEnv(port) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !LATCHKEY_VARS.test(k)));
  return {
    ...env,
    LATCHKEY_BIND: `127.0.0.1:${port}`,
    LATCHKEY_ISSUER: `http://127.0.0.1:${port}`,
    DATABASE_URL: `sqlite://${tmp}/data/latchkey.db`,
    LATCHKEY_DATA_DIR: `${tmp}/data`,
    LATCHKEY_KEYS_DIR: `${tmp}/keys`,
    RUST_LOG: 'warn',
  };
}

/** Run a latchkey CLI command to completion; resolves with its parsed `--json` output. */
function cli(args, env, input = '') {
  return new Promise((resolve, reject) => {
    // cwd is the temporary folder so no `.env` from the working tree is read.
    const child = spawn(LATCHKEY_BIN, args, { env, cwd: tmp, stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      running.delete(child.pid);
      reject(new Error(`cannot run ${LATCHKEY_BIN}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child.pid);
      const what = `latchkey ${args.join(' ')}`;
      if (code !== 0) {
        const why = signal ? `was killed (${signal}${signal === 'SIGKILL' ? ', timed out' : ''})` : `exited ${code}`;
        return reject(new Error(`${what} ${why}: ${stderr.trim() || stdout.trim()}`));
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`${what} printed no JSON object: ${stdout.trim()}`));
      }
    });
    child.stdin.on('error', () => {}); // the command may exit before reading stdin
    child.stdin.end(input);
  });
}

function startServe(env) {
  const out = fs.createWriteStream(path.join(tmp, 'latchkey.log'));
  serve = spawn(LATCHKEY_BIN, ['serve'], { env, cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d) => {
    out.write(d);
    for (const line of String(d).split('\n')) if (line.trim()) serveLog.push(line);
    serveLog.splice(0, Math.max(0, serveLog.length - 40));
  };
  serve.stdout.on('data', keep);
  serve.stderr.on('data', keep);
  serve.on('error', (err) => (serveExit = { code: null, signal: null, error: err.message }));
  serve.on('exit', (code, signal) => {
    serveExit = { code, signal };
    out.end();
  });
}

async function waitReady(base) {
  const until = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < until) {
    if (serveExit) throw new Error(`latchkey serve exited before it was ready (${exitText(serveExit)})`);
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code || err.message;
    }
    await sleep(200);
  }
  throw new Error(`GET ${base}/readyz did not return 200 within ${READY_TIMEOUT_MS / 1000} s (last: ${last})`);
}

function exitText(e) {
  if (e.error) return e.error;
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
}

async function freePorts(n) {
  // Hold all listeners open together so the same port is not handed out twice.
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stop what this run started, by PID. Idempotent, bounded in time. */
let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    if (browser) await withTimeout(browser.close(), 5000).catch(() => {});
    if (browserServer) {
      const pid = browserServer.process()?.pid;
      await withTimeout(browserServer.close(), 5000).catch(() => {});
      // Playwright starts the browser in its own process group: take renderers along.
      if (pid && alive(pid)) killGroup(pid, 'SIGKILL');
    }
    if (rp) await withTimeout(rp.close(), 2000).catch(() => {});
    for (const pid of running) killPid(pid, 'SIGKILL');
    if (serve && !serveExit) {
      killPid(serve.pid, 'SIGTERM');
      const until = Date.now() + 5000;
      while (!serveExit && Date.now() < until) await sleep(50);
      if (!serveExit) {
        log(`latchkey serve (pid ${serve.pid}) ignored SIGTERM for 5 s: SIGKILL`);
        killPid(serve.pid, 'SIGKILL');
      }
    }
  })();
  return cleaning;
}

function killPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    killPid(pid, signal);
  }
}

// Last resort if the process exits some other way: nothing started here outlives it.
process.on('exit', () => {
  for (const pid of running) killPid(pid, 'SIGKILL');
  if (serve && !serveExit) killPid(serve.pid, 'SIGKILL');
  const bpid = browserServer?.process()?.pid;
  if (bpid && alive(bpid)) killGroup(bpid, 'SIGKILL');
});

// ---------------------------------------------------------------------------------------
// browser steps

/** Fail unless the page is at origin+pathname; the message says where it is instead. */
async function expectAt(page, origin, pathname, what) {
  const url = new URL(page.url());
  if (url.origin === origin && url.pathname === pathname) return;
  const status = lastStatus.has(page) ? ` (HTTP ${lastStatus.get(page)})` : '';
  const text = await bodyText(page);
  throw new Error(`expected ${what} at ${origin}${pathname}, but the browser is at ${page.url()}${status}: ${text}`);
}

async function bodyText(page) {
  const text = await page.locator('body').innerText({ timeout: 2000 }).catch(() => '');
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat ? `"${flat.length > 400 ? `${flat.slice(0, 400)}...` : flat}"` : '(empty page)';
}

const lastStatus = new WeakMap(); // page -> HTTP status of its last main-frame response

async function newPage(context) {
  const page = await context.newPage();
  page.on('response', (res) => {
    if (res.request().isNavigationRequest() && res.frame() === page.mainFrame()) lastStatus.set(page, res.status());
  });
  return page;
}

async function requireOne(locator, what) {
  if ((await locator.count()) === 0) throw new Error(`${what} not found on ${locator.page().url()}`);
  return locator.first();
}

/** Click a submit control and wait for the page it leads to (redirects followed). */
async function submit(page, control) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), control.click()]);
}

async function fillLogin(page, email, password) {
  const emailInput = await requireOne(page.locator('input[name="email"]'), 'login form field name="email"');
  const passwordInput = await requireOne(page.locator('input[name="password"]'), 'login form field name="password"');
  await emailInput.fill(email);
  await passwordInput.fill(password);
  const form = page.locator('form').filter({ has: page.locator('input[name="password"]') });
  return requireOne(
    form.locator('button[type="submit"], input[type="submit"], button:not([type])'),
    'submit button of the login form',
  );
}

async function scenarioSignIn(ctx) {
  const context = await browser.newContext();
  try {
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    const page = await newPage(context);
    step('sign-in: open the RP, expect to be sent to Latchkey /login');
    await page.goto(`${ctx.rpUrl}/`);
    await expectAt(page, ctx.issuer, '/login', "Latchkey's login page");
    const shot = path.join(tmp, 'login.png');
    await page.screenshot({ path: shot, fullPage: true });
    log(`login page screenshot: ${shot}`);

    step('sign-in: submit email and password, expect /consent');
    await submit(page, await fillLogin(page, EMAIL, PASSWORD));
    await expectAt(page, ctx.issuer, '/consent', 'the consent page');

    step('sign-in: approve, expect the RP callback');
    const approve = await requireOne(
      page.locator('button[name="decision"][value="approve"], input[type="submit"][name="decision"][value="approve"]'),
      'consent button name="decision" value="approve"',
    );
    await requireOne(
      page.locator('button[name="decision"][value="deny"], input[type="submit"][name="decision"][value="deny"]'),
      'consent button name="decision" value="deny"',
    );
    await submit(page, approve);
    await expectAt(page, ctx.rpUrl, '/cb', "the RP's callback page");
    const text = await page.locator('body').innerText();
    if (!text.includes(`Signed in as ${EMAIL}`)) {
      throw new Error(`the RP callback page does not say "Signed in as ${EMAIL}": ${await bodyText(page)}`);
    }
    log(`RP says: ${text.split('\n')[0]}`);
  } catch (err) {
    await failureShot(context, 'sign-in');
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

async function scenarioWrongPassword(ctx) {
  const context = await browser.newContext();
  try {
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    const page = await newPage(context);
    step('wrong password: open the RP, expect Latchkey /login');
    await page.goto(`${ctx.rpUrl}/`);
    await expectAt(page, ctx.issuer, '/login', "Latchkey's login page");

    step('wrong password: submit a wrong password, expect the login page again');
    await submit(page, await fillLogin(page, EMAIL, 'not the password'));
    await expectAt(page, ctx.issuer, '/login', 'the login page again');
    const message = page.getByText('Invalid email or password').first();
    try {
      await message.waitFor({ state: 'visible', timeout: 5000 });
    } catch {
      throw new Error(`the login page does not show "Invalid email or password": ${await bodyText(page)}`);
    }
    const kept = await page.locator('input[name="email"]').first().inputValue();
    if (kept !== EMAIL) throw new Error(`the email field was not kept: expected "${EMAIL}", found "${kept}"`);
  } catch (err) {
    await failureShot(context, 'wrong-password');
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

const NEW_EMAIL = 'new-e2e@example.com';
const NEW_PASSWORD = 'velvet orbit lantern quay';

/** The verification link mailed to `to`: without SMTP_URL, Latchkey writes .eml files. */
async function verificationLink(to) {
  const outbox = path.join(tmp, 'data', 'outbox');
  for (let i = 0; i < 100; i++) {
    const names = await fsp.readdir(outbox).catch(() => []);
    for (const name of names.filter((n) => n.endsWith('.eml'))) {
      // Undo quoted-printable soft breaks and '=3D' in case a part was encoded.
      const raw = (await fsp.readFile(path.join(outbox, name), 'utf8')).replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      if (!raw.includes(to)) continue;
      const match = raw.match(/https?:\/\/\S+\/verify-email\?token=[A-Za-z0-9_-]+/);
      if (match) return match[0];
    }
    await sleep(100);
  }
  throw new Error(`no verification mail to ${to} in ${outbox}`);
}

async function scenarioSignUp(ctx) {
  const context = await browser.newContext();
  try {
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    const page = await newPage(context);
    step('sign-up: open the RP, follow "Create an account" from the login page');
    await page.goto(`${ctx.rpUrl}/`);
    await expectAt(page, ctx.issuer, '/login', "Latchkey's login page");
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.getByRole('link', { name: 'Create an account' }).click()]);
    await expectAt(page, ctx.issuer, '/signup', 'the sign-up page');
    await page.locator('input[name="email"]').fill(NEW_EMAIL);
    await page.locator('input[name="name"]').fill('New Person');
    await page.locator('input[name="password"]').fill(NEW_PASSWORD);
    await page.locator('input[name="password_confirm"]').fill(NEW_PASSWORD);
    const shot = path.join(tmp, 'signup.png');
    await page.screenshot({ path: shot, fullPage: true });
    log(`sign-up page screenshot: ${shot}`);
    await submit(page, page.locator('form button[type="submit"]'));
    const after = await page.locator('body').innerText();
    if (!after.includes('Check your email')) throw new Error(`expected "Check your email": ${await bodyText(page)}`);

    step('sign-up: open the verification link from the mail, sign in, approve');
    const link = await verificationLink(NEW_EMAIL);
    await page.goto(link);
    await expectAt(page, ctx.issuer, '/login', 'the login page after verification');
    await submit(page, await fillLogin(page, NEW_EMAIL, NEW_PASSWORD));
    await expectAt(page, ctx.issuer, '/consent', 'the consent page');
    await submit(page, page.locator('button[name="decision"][value="approve"]'));
    await expectAt(page, ctx.rpUrl, '/cb', "the RP's callback page");
    const text = await page.locator('body').innerText();
    if (!text.includes(`Signed in as ${NEW_EMAIL}`)) {
      throw new Error(`the RP callback page does not say "Signed in as ${NEW_EMAIL}": ${await bodyText(page)}`);
    }
    log(`RP says: ${text.split('\n')[0]}`);
  } catch (err) {
    await failureShot(context, 'sign-up');
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

async function failureShot(context, name) {
  if (finishing) return;
  const page = context.pages()[0];
  if (!page) return;
  const file = path.join(tmp, `failure-${name}.png`);
  if (await page.screenshot({ path: file, fullPage: true, timeout: 5000 }).then(() => true, () => false)) {
    log(`screenshot of the failing page: ${file}`);
  }
}

// ---------------------------------------------------------------------------------------
// main

async function setup() {
  step('checking prerequisites');
  try {
    await fsp.access(LATCHKEY_BIN, fs.constants.X_OK);
  } catch {
    throw new Error(`no latchkey binary at ${LATCHKEY_BIN}: run \`cargo build\` first, or set LATCHKEY_BIN`);
  }
  try {
    await fsp.access(CHROMIUM, fs.constants.X_OK);
  } catch {
    throw new Error(`no Chromium at ${CHROMIUM}: \`apt-get install -y chromium\`, or set CHROMIUM_PATH`);
  }
  const built = (await fsp.stat(LATCHKEY_BIN)).mtime.toISOString();
  log(`binary ${LATCHKEY_BIN} (built ${built})`);

  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'latchkey-e2e-'));
  log(`work folder ${tmp}`);
  const [lkPort, rpPort] = await freePorts(2);
  const issuer = `http://127.0.0.1:${lkPort}`;
  const rpUrl = `http://127.0.0.1:${rpPort}`;
  const env = latchkeyEnv(lkPort);

  step('latchkey user create');
  const user = await cli(
    ['user', 'create', '--email', EMAIL, '--name', NAME, '--password-stdin', '--verified', '--json'],
    env,
    `${PASSWORD}\n`,
  );
  log(`user ${user.email} (${user.id})`);

  step('latchkey user create --admin (and a user for the admin to disable)');
  const admin = await cli(
    ['user', 'create', '--email', ADMIN_EMAIL, '--name', 'E2E Admin', '--password-stdin', '--admin', '--verified', '--json'],
    env,
    `${ADMIN_PASSWORD}\n`,
  );
  await cli(['user', 'create', '--email', VICTIM_EMAIL, '--password-stdin', '--verified', '--json'], env, `${VICTIM_PASSWORD}\n`);

  step('latchkey client create');
  const created = await cli(['client', 'create', '--name', 'E2E app', '--redirect-uri', `${rpUrl}/cb`, '--json'], env);
  if (!created.client_id || !created.client_secret) {
    throw new Error(`client create returned no client_id/client_secret: ${JSON.stringify(created)}`);
  }
  log(`client ${created.client_id}`);

  step(`latchkey serve on ${issuer}`);
  startServe(env);
  await waitReady(issuer);
  log(`latchkey ready (pid ${serve.pid})`);

  step(`relying party on ${rpUrl}`);
  rp = await startRp({ issuer, clientId: created.client_id, clientSecret: created.client_secret, port: rpPort });

  step(`launching ${CHROMIUM}`);
  browserServer = await chromium.launchServer({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    // Signals are handled here, so cleanup() decides the order things stop in.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    timeout: 30_000,
  });
  browser = await chromium.connect(browserServer.wsEndpoint(), { timeout: 15_000 });
  log(`Chromium ${browser.version()} (pid ${browserServer.process().pid})`);

  return { issuer, rpUrl: rp.url, adminId: admin.id };
}

/** Scenarios not run to a pass count as failed; so does a run-level error after they all passed. */
function summary(extraError) {
  const passed = results.filter((r) => r.ok).length;
  const failed = Math.max(SCENARIOS.length - passed, extraError ? 1 : 0);
  return { passed, failed, line: `${passed} passed, ${failed} failed` };
}

let finishing = null;
function finish(extraError, exitCode = 1) {
  finishing ??= report(extraError, exitCode);
  return finishing;
}

async function report(extraError, exitCode) {
  if (extraError) log(`FAIL: ${extraError}`);
  const { failed, line } = summary(extraError);
  if (failed > 0) {
    if (serveExit && serveExit.signal !== 'SIGTERM') log(`latchkey serve exited on its own (${exitText(serveExit)})`);
    if (serveLog.length) {
      process.stdout.write(`--- last lines of ${path.join(tmp, 'latchkey.log')}\n${serveLog.join('\n')}\n---\n`);
    }
  }
  await withTimeout(cleanup(), 15_000).catch(() => log('cleanup did not finish in 15 s'));
  const ok = failed === 0;
  if (tmp) {
    if (ok && process.env.E2E_KEEP_TMP !== '1') await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
    else log(`work folder kept: ${tmp}`);
  }
  process.stdout.write(`${line}\n`);
  process.exit(ok ? 0 : exitCode);
}

async function main() {
  let ctx;
  try {
    ctx = await setup();
  } catch (err) {
    if (finishing) return finishing;
    return finish(`setup failed while ${currentStep}: ${err.message}`);
  }
  // What the admin scenarios (admin.mjs) drive pages with.
  const kit = {
    browser: () => browser,
    newPage,
    submit,
    fillLogin,
    expectAt,
    bodyText,
    failureShot,
    step,
    log,
    freePorts,
    startRp,
    STEP_TIMEOUT_MS,
    tmpPath: (name) => path.join(tmp, name),
    lastStatus: (page) => lastStatus.get(page),
  };
  const scenarios = [
    scenarioSignIn,
    scenarioWrongPassword,
    scenarioSignUp,
    (c) => scenarioAdminUsers(kit, c),
    (c) => scenarioAdminClient(kit, c),
  ];
  for (let i = 0; i < scenarios.length; i++) {
    try {
      await scenarios[i](ctx);
      if (finishing) return finishing; // the overall timeout already reported
      results.push({ name: SCENARIOS[i], ok: true });
      log(`ok - ${SCENARIOS[i]}`);
    } catch (err) {
      if (finishing) return finishing;
      results.push({ name: SCENARIOS[i], ok: false, error: err.message });
      log(`FAIL - ${SCENARIOS[i]}: ${err.message}`);
    }
    if (serveExit) {
      return finish(`latchkey serve stopped during the test (${exitText(serveExit)})`);
    }
  }
  return finish();
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

const deadline = setTimeout(() => {
  finish(`timed out after ${OVERALL_TIMEOUT_MS / 1000} s while: ${currentStep}`);
}, OVERALL_TIMEOUT_MS);
deadline.unref();

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => finish(`interrupted by ${signal}`, code));
}
process.on('unhandledRejection', (err) => finish(`unexpected error: ${err?.stack || err}`));

main();
