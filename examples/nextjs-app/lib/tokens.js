// Reading the session's tokens on the server (server components, server actions, route
// handlers). The session cookie is decrypted here; the browser never gets the tokens.
import 'server-only';
import { cookies, headers } from 'next/headers';
import { getToken } from 'next-auth/jwt';
import { config } from './config';

export async function sessionToken() {
  const cfg = config();
  return getToken({
    req: { cookies: await cookies(), headers: Object.fromEntries((await headers()).entries()) },
    secret: cfg.secret,
    secureCookie: cfg.appUrl.startsWith('https://'),
  });
}

/** Call the tasks API with the signed-in user's access token. */
export async function callTasksApi(path, init = {}) {
  const token = await sessionToken();
  if (!token?.accessToken) return { status: 401, body: null };
  const res = await fetch(`${config().tasksApiUrl}${path}`, {
    ...init,
    cache: 'no-store',
    headers: { ...(init.headers || {}), Authorization: `Bearer ${token.accessToken}` },
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json().catch(() => null);
  return { status: res.status, body };
}
