// Auth.js (next-auth v4) with Latchkey as a generic OpenID Connect provider.
//
// Tokens live in the session cookie only: next-auth's "jwt" session strategy keeps them in
// an encrypted (JWE), HTTP-only cookie, so the browser's scripts never see them and nothing
// is put in localStorage. The `session` callback below hands the browser only the user's
// name and email; the access token is read on the server (lib/tokens.js).
import { config } from './config';

// Refresh this long before the access token expires.
export const REFRESH_MARGIN_SECONDS = 60;

let discovery = null;
async function endpoints(issuer) {
  discovery ??= fetch(`${issuer}/.well-known/openid-configuration`, { cache: 'no-store' })
    .then((r) => {
      if (!r.ok) throw new Error(`discovery: HTTP ${r.status}`);
      return r.json();
    })
    .catch((err) => {
      discovery = null;
      throw err;
    });
  return discovery;
}

/**
 * Trade the refresh token for new tokens. Latchkey rotates refresh tokens on every use (and
 * revokes the whole family when a spent one comes back), so the new one must be stored.
 */
export async function refreshTokens(token) {
  const cfg = config();
  const { token_endpoint } = await endpoints(cfg.issuer);
  const res = await fetch(token_endpoint, {
    method: 'POST',
    cache: 'no-store',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(
        `${encodeURIComponent(cfg.clientId)}:${encodeURIComponent(cfg.clientSecret)}`,
      ).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token.refreshToken }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    return { ...token, error: 'RefreshFailed', errorDetail: body.error || `HTTP ${res.status}` };
  }
  return {
    ...token,
    accessToken: body.access_token,
    expiresAt: Math.floor(Date.now() / 1000) + Number(body.expires_in || 0),
    refreshToken: body.refresh_token ?? token.refreshToken,
    idToken: body.id_token ?? token.idToken,
    error: undefined,
    errorDetail: undefined,
  };
}

export function needsRefresh(token) {
  return Boolean(
    token?.refreshToken && token.expiresAt && Date.now() / 1000 > token.expiresAt - REFRESH_MARGIN_SECONDS,
  );
}

export function authOptions() {
  const cfg = config();
  return {
    secret: cfg.secret,
    session: { strategy: 'jwt' },
    providers: [
      {
        id: 'latchkey',
        name: 'Latchkey',
        type: 'oauth',
        wellKnown: `${cfg.issuer}/.well-known/openid-configuration`,
        clientId: cfg.clientId,
        clientSecret: cfg.clientSecret,
        client: { token_endpoint_auth_method: 'client_secret_basic' },
        authorization: {
          params: {
            scope: 'openid email profile offline_access',
            resource: cfg.apiAudience,
          },
        },
        checks: ['pkce', 'state'],
        idToken: true,
        profile(claims) {
          return { id: claims.sub, email: claims.email, name: claims.name ?? claims.email };
        },
      },
    ],
    callbacks: {
      async jwt({ token, account }) {
        if (account) {
          // First sign-in: keep Latchkey's tokens in the (encrypted) session cookie.
          return {
            ...token,
            accessToken: account.access_token,
            refreshToken: account.refresh_token,
            idToken: account.id_token,
            expiresAt: account.expires_at,
          };
        }
        // Refreshing happens in middleware.js, where the updated cookie can always be
        // written; here the token is passed on as it is.
        return token;
      },
      async session({ session, token }) {
        // What the browser may see: no tokens.
        return { user: session.user, expires: session.expires, error: token.error };
      },
    },
  };
}
