// A minimal relying party, the way an application would sign its users in through
// Latchkey: authorization code flow with PKCE (S256), `state` and `nonce`, a confidential
// client authenticating with client_secret_basic, and the ID token validated by
// openid-client (signature against the JWKS, iss, aud, exp, nonce).
//
//   GET /    start a sign-in: remember verifier/state/nonce under a cookie, redirect to
//            the provider's authorization endpoint
//   GET /cb  redirect target: exchange the code, show "Signed in as <email>"
//
// Any failure renders "RP error: <message>" with status 500, so a browser test can tell
// an RP-side failure from a provider page.

import http from 'node:http';
import crypto from 'node:crypto';
import * as client from 'openid-client';

const COOKIE = 'latchkey_e2e_rp';
const SCOPE = 'openid email profile';
// Pending sign-ins older than this are dropped; the test finishes well within it.
const PENDING_TTL_MS = 10 * 60 * 1000;

/**
 * Start the relying party.
 *
 * @param {object} opts
 * @param {string} opts.issuer        the provider's issuer URL (discovery is fetched lazily)
 * @param {string} opts.clientId
 * @param {string} opts.clientSecret
 * @param {number} [opts.port=0]      0 picks a free port
 * @param {string} [opts.host='127.0.0.1']
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startRp({ issuer, clientId, clientSecret, port = 0, host = '127.0.0.1' }) {
  /** @type {Map<string, { verifier: string, state: string, nonce: string, at: number }>} */
  const pending = new Map();
  let configPromise = null;
  let baseUrl = '';

  // Discovery happens on the first sign-in rather than at start, so the RP can start
  // before (or without) the provider; a failed discovery is retried on the next request.
  function config() {
    if (!configPromise) {
      configPromise = client
        .discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(clientSecret), {
          // The test provider listens on plain http on loopback.
          execute: [client.allowInsecureRequests],
          timeout: 10,
        })
        .catch((err) => {
          configPromise = null;
          throw err;
        });
    }
    return configPromise;
  }

  async function start(req, res) {
    const cfg = await config();
    const verifier = client.randomPKCECodeVerifier();
    const entry = {
      verifier,
      state: client.randomState(),
      nonce: client.randomNonce(),
      at: Date.now(),
    };
    const sid = crypto.randomBytes(24).toString('base64url');
    sweep();
    pending.set(sid, entry);
    const target = client.buildAuthorizationUrl(cfg, {
      redirect_uri: `${baseUrl}/cb`,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: entry.state,
      nonce: entry.nonce,
    });
    res.writeHead(302, {
      Location: target.href,
      'Set-Cookie': `${COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Lax`,
      'Cache-Control': 'no-store',
    });
    res.end();
  }

  async function callback(req, res) {
    const sid = readCookie(req, COOKIE);
    const entry = sid ? pending.get(sid) : undefined;
    if (!entry) throw new Error('no sign-in in progress for this browser (missing or unknown RP cookie)');
    // One attempt per started sign-in, whatever its outcome.
    pending.delete(sid);
    const cfg = await config();
    const tokens = await client.authorizationCodeGrant(cfg, new URL(req.url, baseUrl), {
      pkceCodeVerifier: entry.verifier,
      expectedState: entry.state,
      expectedNonce: entry.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('token response has no ID token');
    if (typeof claims.email !== 'string' || claims.email === '') {
      throw new Error(`ID token has no email claim (claims: ${Object.keys(claims).join(', ')})`);
    }
    const rows = [
      ['sub', claims.sub],
      ['name', claims.name],
      ['email_verified', claims.email_verified],
      ['scope', tokens.scope],
    ]
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<dt>${k}</dt><dd>${escapeHtml(String(v))}</dd>`)
      .join('');
    send(
      res,
      200,
      page('Signed in', `<h1 id="result">Signed in as ${escapeHtml(claims.email)}</h1><dl>${rows}</dl>`),
    );
  }

  function sweep() {
    const cutoff = Date.now() - PENDING_TTL_MS;
    for (const [sid, entry] of pending) if (entry.at < cutoff) pending.delete(sid);
  }

  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url, 'http://rp.invalid').pathname;
    try {
      if (req.method !== 'GET') {
        send(res, 405, page('Method not allowed', '<p>Method not allowed</p>'));
      } else if (path === '/') {
        await start(req, res);
      } else if (path === '/cb') {
        await callback(req, res);
      } else {
        send(res, 404, page('Not found', '<p>Not found</p>'));
      }
    } catch (err) {
      const message = describe(err);
      process.stderr.write(`rp: ${req.method} ${path}: ${message}\n`);
      if (!res.headersSent) {
        send(res, 500, page('RP error', `<p id="error">RP error: ${escapeHtml(message)}</p>`));
      } else {
        res.destroy();
      }
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  baseUrl = `http://${host}:${bound.port}`;

  return {
    url: baseUrl,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One line describing an error, including the OAuth error code and any cause. */
function describe(err) {
  if (!(err instanceof Error)) return String(err);
  const parts = [err.message];
  if (err.error) parts.push(`error=${err.error}`);
  if (err.error_description) parts.push(`error_description=${err.error_description}`);
  if (err.code && err.code !== err.error) parts.push(`code=${err.code}`);
  if (err.status) parts.push(`status=${err.status}`);
  if (err.cause instanceof Error) parts.push(`cause: ${err.cause.message}`);
  else if (err.cause && typeof err.cause === 'object') {
    try {
      parts.push(`cause: ${JSON.stringify(err.cause).slice(0, 300)}`);
    } catch {
      // An unserialisable cause adds nothing useful.
    }
  }
  return parts.join('; ');
}

function readCookie(req, name) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function send(res, status, html) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(html);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
