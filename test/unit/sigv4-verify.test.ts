import fc from 'fast-check';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { verifySigV4 } from '#infra/local/sigv4.ts';
import { Sha256 } from '#shared/adapters/sha256.ts';

/**
 * The local endpoints' SigV4 check (infra/local/sigv4.ts) against the SDK's own signer: what it
 * signs is valid, and any change a signature covers (body, a signed header, path, query, time,
 * secret, scope) makes it invalid, as AWS would find.
 */
const credential = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local/secret+key' };
const host = '127.0.0.1:3001';

interface Req {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: string;
}

/** Signs as the SDK does and gives the request as a Node server receives it (lower-case headers, the raw URL). */
async function sdkSigned(req: Req, service: string, at: Date, secret = credential.secretAccessKey) {
  const signer = new SignatureV4({ credentials: { ...credential, secretAccessKey: secret }, region: 'us-east-1', service, sha256: Sha256, uriEscapePath: service !== 's3' });
  const signed = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: '127.0.0.1', port: 3001, path: req.path, query: req.query, headers: { ...req.headers, host }, body: req.body },
    { signingDate: at },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = String(v);
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query)) for (const one of [v].flat()) search.append(k, one);
  // URLSearchParams writes a space as `+`, which servers read back as a space (as AWS does).
  const url = `${req.path}${search.size > 0 ? `?${search.toString()}` : ''}`;
  return { method: req.method, url, headers, body: Buffer.from(req.body) };
}

const segment = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '=', '+', '%3D', '%2F', '%20', '.', '-', '_', '~', '!', '*', 'é', '💬'), minLength: 1, maxLength: 8 });
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.map((x) => (/%[0-9A-F]{2}/.test(x) ? x : encodeURIComponent(x))).join('/')}`);
const query = fc.dictionary(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_.-]{0,8}$/), fc.oneof(fc.string({ maxLength: 10 }), fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 3 })), { maxKeys: 3 });
const headers = fc.dictionary(fc.constantFrom('content-type', 'x-amz-target', 'x-amz-meta-a', 'range', 'accept'), fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,18}[\x21-\x7e])?$/), { maxKeys: 3 });
const request = fc.record({ method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'), path, query, headers, body: fc.string({ maxLength: 64 }) });
const service = fc.constantFrom('execute-api', 'dynamodb', 'secretsmanager', 's3');
const now = new Date('2026-11-30T09:00:00Z');
const check = (req: { method: string; url: string; headers: Record<string, string> }, body: Buffer, svc: string) =>
  verifySigV4(req, body, { service: svc, credentials: [credential], now: now.getTime() });

describe('the local endpoints\' SigV4 check', () => {
  // Hundreds of the SDK's signings each: time enough on a busy machine.
  it("finds valid whatever the SDK's signer signs: any method, path, query, headers and body, for every service", { timeout: 30_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(request, service, async (req, svc) => {
        const signed = await sdkSigned(req, svc, now);
        expect(await check(signed, signed.body, svc)).toBe('valid');
      }),
      { numRuns: 400 },
    );
  });

  it('finds invalid a request changed in anything the signature covers, or signed with another secret', { timeout: 30_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(request, service, fc.constantFrom('body', 'header', 'path', 'query', 'method', 'secret', 'date'), async (req, svc, change) => {
        const signed = await sdkSigned(req, svc, now, change === 'secret' ? 'guessed' : credential.secretAccessKey);
        let { url, method, body } = signed;
        const h = { ...signed.headers };
        if (change === 'body') body = Buffer.concat([body, Buffer.from('!')]);
        if (change === 'header') h['x-amz-date'] = '20261130T090001Z';
        // Onto the last segment: a changed segment that `..` would remove again changes nothing signed.
        if (change === 'path') url = url.replace(/^([^?]*)/, '$1x');
        if (change === 'query') url = `${url}${url.includes('?') ? '&' : '?'}added=1`;
        if (change === 'method') method = method === 'POST' ? 'PUT' : 'POST';
        if (change === 'date') h.authorization = h.authorization!.replace('/20261130/', '/20261129/');
        // A changed body no longer matches its payload hash header.
        expect(await check({ method, url, headers: h }, body, svc)).toBe('invalid');
      }),
      { numRuns: 400 },
    );
  });

  it('finds invalid a body that differs from one it checked before under the same payload hash, and a checked body under a changed signature', async () => {
    const req: Req = { method: 'POST', path: '/@connections/abc%3D', query: {}, headers: {}, body: 'the frame every connection gets' };
    const signed = await sdkSigned(req, 'execute-api', now);
    expect(await check(signed, signed.body, 'execute-api')).toBe('valid');
    // Same length, same payload hash header, one byte changed: compared, then hashed, and refused.
    const forged = Buffer.from(signed.body);
    forged[0] = forged[0]! ^ 1;
    expect(await check(signed, forged, 'execute-api')).toBe('invalid');
    const resigned = { ...signed, headers: { ...signed.headers, authorization: signed.headers.authorization!.replace(/Signature=\w/, (m) => (m.endsWith('0') ? `${m.slice(0, -1)}1` : `${m.slice(0, -1)}0`)) } };
    expect(await check(resigned, signed.body, 'execute-api')).toBe('invalid');
    expect(await check(signed, signed.body, 'execute-api')).toBe('valid');
  });

  it('refuses a signature for another service, one made over 5 minutes away, and an unknown key', async () => {
    const req: Req = { method: 'POST', path: '/@connections/abc%3D', query: {}, headers: {}, body: 'frame' };
    const signed = await sdkSigned(req, 'execute-api', now);
    expect(await check(signed, signed.body, 'dynamodb')).toBe('invalid');
    const old = await sdkSigned(req, 'execute-api', new Date(now.getTime() - 5 * 60_000 - 1000));
    expect(await check(old, old.body, 'execute-api')).toBe('invalid');
    const other = { ...signed, headers: { ...signed.headers, authorization: signed.headers.authorization!.replace('AKIDLOCAL', 'AKIDOTHER') } };
    expect(await check(other, signed.body, 'execute-api')).toBe('unknown-key');
    const { authorization: _a, ...unsigned } = signed.headers;
    expect(await check({ ...signed, headers: unsigned }, signed.body, 'execute-api')).toBe('unsigned');
  });
});
