import { callTasksApi, sessionToken } from '../lib/tokens';
import { addTask } from './actions';
import SignInButton from './sign-in-button';

export const dynamic = 'force-dynamic';

export default async function Home({ searchParams }) {
  const params = await searchParams;
  const token = await sessionToken();

  if (!token?.accessToken) {
    return (
      <main>
        <h1>Tasks</h1>
        <p>Sign in to see your tasks.</p>
        <SignInButton />
      </main>
    );
  }

  const { status, body } = await callTasksApi('/tasks');
  const expiresAt = token.expiresAt ? new Date(token.expiresAt * 1000).toISOString() : 'unknown';

  return (
    <main>
      <h1>Tasks</h1>
      <div>
        Signed in as <strong id="who">{token.email}</strong>{' '}
        <form className="inline" method="post" action="/signout">
          <button type="submit">Sign out</button>
        </form>
      </div>
      {token.error && <p className="error">Your session has expired: sign out and sign in again.</p>}
      {params?.error && <p className="error">{params.error}</p>}

      <form action={addTask}>
        <label htmlFor="title">New task </label>
        <input id="title" name="title" required maxLength={200} />{' '}
        <button type="submit">Add</button>
      </form>

      {status === 200 ? (
        body.length ? (
          <ul id="tasks">
            {body.map((t) => (
              <li key={t.id}>{t.title}</li>
            ))}
          </ul>
        ) : (
          <p id="no-tasks">No tasks yet.</p>
        )
      ) : (
        <p className="error">The tasks API answered HTTP {status}.</p>
      )}
      <p className="muted">
        Access token valid until <span id="token-expires">{expiresAt}</span> (refreshed on the server
        before it expires).
      </p>
    </main>
  );
}
