// Server-side configuration, read from the environment at run time (never shipped to the
// browser: nothing here is NEXT_PUBLIC_).
export function config() {
  const need = (name) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    issuer: need('LATCHKEY_ISSUER').replace(/\/$/, ''),
    clientId: need('LATCHKEY_CLIENT_ID'),
    clientSecret: need('LATCHKEY_CLIENT_SECRET'),
    // The API's identifier: asked for as `resource=` so the access token's `aud` is the API.
    apiAudience: need('API_AUDIENCE'),
    tasksApiUrl: need('TASKS_API_URL').replace(/\/$/, ''),
    appUrl: need('NEXTAUTH_URL').replace(/\/$/, ''),
    secret: need('NEXTAUTH_SECRET'),
  };
}
