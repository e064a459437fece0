import { render } from 'preact';
import { useState } from 'preact/hooks';
import './styles.css';
import { completeCognitoSignIn, cognitoSignIn, devSignIn, loadConfig, storedSession, type AppConfig, type Session } from './auth.ts';
import { App } from './app.tsx';

function SignIn({ config, onSignedIn }: { config: AppConfig; onSignedIn: (s: Session) => void }) {
  const [userId, setUserId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  if (config.auth.kind === 'cognito') {
    return (
      <main class="signin">
        <form onSubmit={(e) => (e.preventDefault(), void cognitoSignIn(config))}>
          <h1>Parley</h1>
          <button class="primary" type="submit">
            Sign in
          </button>
        </form>
      </main>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await devSignIn(config, userId.trim(), displayName.trim()));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Parley</h1>
        <p class="muted">Local development: pick any user id. Each browser tab can be a different person.</p>
        <label class="field">
          User id
          <input name="userId" required pattern="[^\s#]+" autocomplete="username" value={userId} onInput={(e) => setUserId(e.currentTarget.value)} />
        </label>
        <label class="field">
          Display name
          <input name="displayName" autocomplete="name" value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function Root({ config, initial }: { config: AppConfig; initial?: Session | undefined }) {
  const [session, setSession] = useState(initial);
  return session ? <App config={config} session={session} /> : <SignIn config={config} onSignedIn={setSession} />;
}

async function boot() {
  const root = document.getElementById('app')!;
  try {
    const config = await loadConfig();
    const session = (await completeCognitoSignIn(config)) ?? storedSession();
    root.textContent = '';
    render(<Root config={config} initial={session} />, root);
  } catch (err) {
    root.textContent = `Parley could not start: ${err instanceof Error ? err.message : String(err)}`;
  }
}

void boot();
