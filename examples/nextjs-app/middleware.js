// Keeps the access token fresh: before a page or server action runs, an access token that
// expires within REFRESH_MARGIN_SECONDS is traded, with the refresh token, for a new one,
// and the session cookie is rewritten (on the response for the browser, and on this request
// for the server code that runs next). Middleware is the one place where that cookie can
// always be written, so a rotated refresh token is never lost.
import { NextResponse } from 'next/server';
import { encode, getToken } from 'next-auth/jwt';
import { needsRefresh, refreshTokens } from './lib/auth';
import { config as appConfig } from './lib/config';

const SESSION_MAX_AGE = 30 * 24 * 60 * 60; // next-auth's default

export async function middleware(req) {
  const cfg = appConfig();
  const secure = cfg.appUrl.startsWith('https://');
  const cookieName = `${secure ? '__Secure-' : ''}next-auth.session-token`;
  const token = await getToken({ req, secret: cfg.secret, secureCookie: secure });
  if (!token || !needsRefresh(token)) return NextResponse.next();

  const fresh = await refreshTokens(token);
  const value = await encode({ token: fresh, secret: cfg.secret, maxAge: SESSION_MAX_AGE });
  req.cookies.set(cookieName, value);
  const res = NextResponse.next({ request: { headers: req.headers } });
  res.cookies.set(cookieName, value, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure,
    maxAge: SESSION_MAX_AGE,
  });
  return res;
}

export const config = {
  matcher: ['/((?!api/auth|_next/static|_next/image|favicon.ico).*)'],
  runtime: 'nodejs',
};
