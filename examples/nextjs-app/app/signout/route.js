// Sign-out: forget the session here, then end the Latchkey session too through its
// RP-initiated logout endpoint, which sends the browser back to this app's home page
// (registered on the client with --post-logout-redirect-uri).
import { NextResponse } from 'next/server';
import { getToken } from 'next-auth/jwt';
import { config } from '../../lib/config';

export async function POST(req) {
  const cfg = config();
  const secure = cfg.appUrl.startsWith('https://');
  const token = await getToken({ req, secret: cfg.secret, secureCookie: secure });

  const logout = new URL(`${cfg.issuer}/logout`);
  logout.searchParams.set('post_logout_redirect_uri', `${cfg.appUrl}/`);
  if (token?.idToken) logout.searchParams.set('id_token_hint', token.idToken);

  const res = NextResponse.redirect(logout, 303);
  // Delete the session cookie, and any chunks of it next-auth wrote for a large session.
  for (const { name } of req.cookies.getAll()) {
    if (name.includes('next-auth.session-token')) {
      res.cookies.set(name, '', { path: '/', maxAge: 0, httpOnly: true, sameSite: 'lax', secure });
    }
  }
  return res;
}
