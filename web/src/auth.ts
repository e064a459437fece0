/**
 * Who the user is and where their token comes from. Locally (`npm start`) the dev issuer signs a
 * token for any user id; deployed, Cognito's hosted sign-in does (authorization code + PKCE).
 * Tokens live in sessionStorage, so each tab can be a different person.
 */

/** What the host writes to `/config.json`: `npm start` serves it, the CDK stack uploads it. */
export interface AppConfig {
  httpUrl: string;
  wsUrl: string;
  auth: { kind: 'dev' } | { kind: 'cognito'; domain: string; clientId: string; redirectUri?: string };
}

export interface Session {
  userId: string;
  displayName: string;
  token: string;
  /** ms since the epoch. */
  expiresAt: number;
  refreshToken?: string;
}

const SESSION_KEY = 'parley.session';
const VERIFIER_KEY = 'parley.pkce';
/** Ask for a new token this long before the old one expires. */
const RENEW_MARGIN_MS = 60_000;

export async function loadConfig(): Promise<AppConfig> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  const config = (await res.json()) as AppConfig;
  return { ...config, httpUrl: config.httpUrl.replace(/\/$/, '') };
}

export function storedSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

function keep(session: Session): Session {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export function signOut(config: AppConfig): void {
  sessionStorage.removeItem(SESSION_KEY);
  if (config.auth.kind === 'cognito') {
    const url = new URL(`https://${config.auth.domain}/logout`);
    url.searchParams.set('client_id', config.auth.clientId);
    url.searchParams.set('logout_uri', redirectUri(config));
    location.assign(url.toString());
  } else {
    location.reload();
  }
}

/** Local only: a token from the dev issuer for any user id. */
export async function devSignIn(config: AppConfig, userId: string, displayName: string): Promise<Session> {
  const res = await fetch(`${config.httpUrl}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, ...(displayName && { displayName }) }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; expiresAt?: string; error?: { message?: string } };
  if (!res.ok || !body.token) throw new Error(body.error?.message ?? `Sign-in failed (HTTP ${res.status})`);
  return keep({ userId, displayName: displayName || userId, token: body.token, expiresAt: Date.parse(body.expiresAt ?? '') || Date.now() + 3_600_000 });
}

/** The SDK's `getToken`: the stored token, renewed when it nears its expiry. */
export function tokenSource(config: AppConfig): () => Promise<string> {
  return async () => {
    const session = storedSession();
    if (!session) throw new Error('signed out');
    if (session.expiresAt - Date.now() > RENEW_MARGIN_MS) return session.token;
    if (config.auth.kind === 'dev') return (await devSignIn(config, session.userId, session.displayName)).token;
    if (!session.refreshToken) throw new Error('session expired');
    return (await cognitoTokens(config, { grant_type: 'refresh_token', refresh_token: session.refreshToken })).token;
  };
}

// ---- Cognito hosted sign-in (authorization code with PKCE) ----

const redirectUri = (config: AppConfig) =>
  (config.auth.kind === 'cognito' && config.auth.redirectUri) || `${location.origin}/`;

const base64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export async function cognitoSignIn(config: AppConfig): Promise<void> {
  if (config.auth.kind !== 'cognito') return;
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const url = new URL(`https://${config.auth.domain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.auth.clientId,
    redirect_uri: redirectUri(config),
    scope: 'openid email profile',
    code_challenge_method: 'S256',
    code_challenge: challenge,
  }).toString();
  location.assign(url.toString());
}

/** Back from the hosted sign-in with `?code=`: trade it for tokens. */
export async function completeCognitoSignIn(config: AppConfig): Promise<Session | undefined> {
  const code = new URLSearchParams(location.search).get('code');
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  if (config.auth.kind !== 'cognito' || !code || !verifier) return undefined;
  history.replaceState(null, '', location.pathname);
  sessionStorage.removeItem(VERIFIER_KEY);
  return cognitoTokens(config, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri(config) });
}

async function cognitoTokens(config: AppConfig, params: Record<string, string>): Promise<Session> {
  if (config.auth.kind !== 'cognito') throw new Error('not a Cognito deployment');
  const res = await fetch(`https://${config.auth.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: config.auth.clientId, ...params }),
  });
  if (!res.ok) throw new Error(`Sign-in failed (HTTP ${res.status})`);
  const body = (await res.json()) as { id_token: string; refresh_token?: string };
  const claims = JSON.parse(atob(body.id_token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, string | number>;
  const previous = storedSession();
  const name = String(claims.name ?? claims.preferred_username ?? claims['cognito:username'] ?? claims.email ?? claims.sub);
  return keep({
    userId: String(claims.sub),
    displayName: name,
    token: body.id_token,
    expiresAt: Number(claims.exp) * 1000,
    ...((body.refresh_token ?? previous?.refreshToken) && { refreshToken: body.refresh_token ?? previous?.refreshToken }),
  });
}
