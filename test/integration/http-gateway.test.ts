import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, generateKeyPair, importPKCS8, type CryptoKey } from 'jose';
import { startHttpGateway } from '#infra/local/http-gateway.ts';
import { createDevIssuer, type DevIssuer } from '#infra/local/dev-issuer.ts';
import { devRoutes } from '#infra/local/dev-routes.ts';
import { createJwtVerifier } from '#shared/adapters/jwt.ts';
import type { HttpRoute } from '#infra/routes.ts';

// The HTTP API emulator on its own, in front of handlers that echo the event they get, so the
// event shape and API Gateway's own answers can be asserted exactly.
const routes: HttpRoute[] = [
  { method: 'GET', path: '/open', fn: 'echo', auth: 'none' },
  { method: 'GET', path: '/things/{thingId}', fn: 'echo', auth: 'jwt' },
  { method: 'GET', path: '/things/special', fn: 'special', auth: 'jwt' },
  { method: 'POST', path: '/things/{thingId}/parts/{partId}', fn: 'echo', auth: 'jwt' },
  { method: 'GET', path: '/boom', fn: 'boom', auth: 'none' },
  { method: 'GET', path: '/plain', fn: 'plain', auth: 'none' },
  { method: 'GET', path: '/custom', fn: 'custom', auth: 'none' },
];

let issuer: DevIssuer;
let url: string;
let stop: () => Promise<void>;
let token: string;
const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'parley-issuer-')), 'key.json');

beforeAll(async () => {
  issuer = await createDevIssuer({ issuer: 'http://127.0.0.1:1/dev', keyFile });
  const verify = createJwtVerifier({ issuer: issuer.issuer, audience: issuer.audience, jwks: issuer.jwks });
  const gateway = await startHttpGateway({
    port: 0,
    routes,
    verify,
    local: devRoutes(issuer),
    invoke: async (fn, event) => {
      if (fn === 'boom') throw new Error('handler crashed');
      if (fn === 'plain') return { hello: 'world' };
      if (fn === 'custom') return { statusCode: 202, headers: { 'x-custom': 'yes' }, cookies: ['a=1', 'b=2'], body: 'accepted' };
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fn, event }) };
    },
  });
  url = gateway.url;
  stop = gateway.stop;
  token = (await issuer.issue('ann', 'Ann')).token;
});
afterAll(() => stop());

const call = (path: string, init: RequestInit = {}) => fetch(new URL(path.replace(/^\//, ''), url), init);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('the HTTP API emulator', () => {
  it('hands the handler a payload format 2.0 event', async () => {
    const res = await call('/things/a%20b/parts/p1?x=1&x=2&y=3', {
      method: 'POST',
      headers: { ...bearer(token), 'Content-Type': 'application/json', 'X-Mixed-Case': 'v', cookie: 'c1=1; c2=2' },
      body: '{"k":1}',
    });
    expect(res.status).toBe(200);
    const { event } = (await res.json()) as { event: any };
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /things/{thingId}/parts/{partId}',
      rawPath: '/things/a%20b/parts/p1',
      rawQueryString: 'x=1&x=2&y=3',
      cookies: ['c1=1', 'c2=2'],
      queryStringParameters: { x: '1,2', y: '3' },
      pathParameters: { thingId: 'a b', partId: 'p1' },
      body: '{"k":1}',
      isBase64Encoded: false,
      requestContext: {
        routeKey: 'POST /things/{thingId}/parts/{partId}',
        stage: '$default',
        http: { method: 'POST', path: '/things/a%20b/parts/p1', sourceIp: expect.any(String) },
        requestId: expect.any(String),
        timeEpoch: expect.any(Number),
      },
    });
    expect(event.headers['x-mixed-case']).toBe('v');
    expect(event.headers.cookie).toBeUndefined();
  });

  it('passes the verified claims as strings in requestContext.authorizer.jwt.claims', async () => {
    const res = await call('/things/t1', { headers: bearer(token) });
    const { event } = (await res.json()) as { event: any };
    expect(event.requestContext.authorizer.jwt.claims).toMatchObject({ sub: 'ann', name: 'Ann', aud: 'parley-local', iss: issuer.issuer, exp: expect.any(String) });
  });

  it('answers 401 {"message":"Unauthorized"} for a missing, malformed, expired, foreign or misaddressed token, without invoking', async () => {
    const { privateKey: otherKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: { iss?: string; aud?: string; exp?: number }, key: CryptoKey = otherKey, kid = 'other') =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid })
        .setSubject('mallory')
        .setIssuer(claims.iss ?? issuer.issuer)
        .setAudience(claims.aud ?? issuer.audience)
        .setIssuedAt(now - 100)
        .setExpirationTime(claims.exp ?? now + 100)
        .sign(key);
    const devKid = String(issuer.jwks.keys[0]!.kid);
    const devKey = await importPKCS8((JSON.parse(readFileSync(keyFile, 'utf8')) as { pkcs8: string }).pkcs8, 'RS256');
    const cases: Record<string, Record<string, string>> = {
      'expired (dev key)': bearer(await sign({ exp: now - 10 }, devKey, devKid)),
      'for another audience (dev key)': bearer(await sign({ aud: 'someone-else' }, devKey, devKid)),
      'from another issuer (dev key)': bearer(await sign({ iss: 'https://evil.example' }, devKey, devKid)),
      missing: {},
      'not a JWT': bearer('not-a-jwt'),
      'no Bearer value': { authorization: 'Bearer ' },
      'signed by another key': bearer(await sign({})),
      'signed by another key with the dev kid': bearer(await sign({}, otherKey, devKid)),
      'tampered payload': bearer(token.replace(/\.[^.]+\./, `.${Buffer.from('{"sub":"root"}').toString('base64url')}.`)),
    };
    expect((await call('/things/t1', { headers: bearer(await sign({}, devKey, devKid)) })).status).toBe(200);
    for (const [what, headers] of Object.entries(cases)) {
      const res = await call('/things/t1', { headers });
      expect(res.status, what).toBe(401);
      expect(await res.json(), what).toEqual({ message: 'Unauthorized' });
    }
  });

  it('matches the most specific route first, and answers 404 for no route or another method', async () => {
    const special = await call('/things/special', { headers: bearer(token) });
    expect(((await special.json()) as { fn: string }).fn).toBe('special');
    const other = await call('/things/other', { headers: bearer(token) });
    expect(((await other.json()) as { fn: string }).fn).toBe('echo');
    for (const [method, path] of [['GET', '/nowhere'], ['DELETE', '/open'], ['GET', '/things'], ['GET', '/open/']]) {
      const res = await call(path!, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({ message: 'Not Found' });
    }
  });

  it('reads results with the format 2.0 rules, and turns a crash into 500 without details', async () => {
    const plain = await call('/plain');
    expect(plain.status).toBe(200);
    expect(await plain.json()).toEqual({ hello: 'world' });
    const custom = await call('/custom');
    expect(custom.status).toBe(202);
    expect(custom.headers.get('x-custom')).toBe('yes');
    expect(custom.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await custom.text()).toBe('accepted');
    const boom = await call('/boom');
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('crashed');
  });

  it('refuses bodies over 10 MB with 413, and answers CORS preflights itself', async () => {
    const big = await call('/things/t1/parts/p1', { method: 'POST', headers: bearer(token), body: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    const preflight = await call('/things/t1', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('serves the dev issuer: tokens for valid user ids only, and its JWKS', async () => {
    const ok = await call('/dev/token', { method: 'POST', body: JSON.stringify({ userId: 'bo', displayName: 'Bo' }) });
    expect(ok.status).toBe(200);
    const { token: boToken, expiresAt } = (await ok.json()) as { token: string; expiresAt: string };
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    expect((await call('/things/t1', { headers: bearer(boToken) })).status).toBe(200);
    for (const body of ['{}', '{"userId":""}', '{"userId":"has space"}', '{"userId":"a#b"}', 'nope', '{"userId":"x","admin":true}']) {
      const res = await call('/dev/token', { method: 'POST', body });
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    }
    const jwks = (await (await call('/dev/.well-known/jwks.json')).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d'); // the public half only
  });
});
