import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { SigV4Signer, uriEscape, type SigV4Credentials } from '#shared/adapters/sigv4-sign.ts';
import { Sha256 } from '#shared/adapters/sha256.ts';

/** What the SDK's own signer makes of the same request: the oracle. */
async function sdkSign(
  credentials: SigV4Credentials,
  region: string,
  service: string,
  date: Date,
  req: { method: string; path: string; headers: Record<string, string>; body?: string | Uint8Array },
  opts: { uriEscapePath?: boolean; applyChecksum?: boolean } = {},
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256, ...opts });
  const signed = await signer.sign(
    { method: req.method, protocol: 'https:', hostname: req.headers.host!, path: req.path, query: {}, headers: req.headers, ...(req.body !== undefined && { body: req.body }) },
    { signingDate: date },
  );
  return signed.headers as Record<string, string>;
}

const ours = (credentials: SigV4Credentials, region: string, service: string, opts: { uriEscapePath?: boolean; applyChecksum?: boolean } = {}) =>
  new SigV4Signer({ service, region, credentials: () => credentials, ...opts });

// What a connection id may hold, and more: `=`, `+`, `/`, `%`, spaces, dots, unicode beyond the BMP.
const label = fc.string({ unit: fc.oneof(fc.constantFrom('=', '+', '/', '%', ' ', '.', '..', '!', "'", '(', ')', '*', '~', '-', '_', 'é', '💬', 'ሴ', '?', '#', '&'), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' })), maxLength: 24 });
const encodeLabel = uriEscape;
const token = fc.stringMatching(/^[A-Za-z0-9+/=]{1,60}$/);
const credentials = fc.record(
  { accessKeyId: fc.stringMatching(/^[A-Z0-9]{4,20}$/), secretAccessKey: fc.string({ minLength: 1, maxLength: 40 }), sessionToken: token },
  { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
);
const region = fc.constantFrom('us-east-1', 'eu-west-3', 'ap-southeast-2', 'local');
const service = fc.constantFrom('dynamodb', 'execute-api', 'service', 'sqs');
const date = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });
const headerName = fc.oneof(
  fc.constantFrom('content-type', 'Content-Type', 'content-length', 'x-amz-target', 'X-Amz-Target', 'user-agent', 'connection', 'proxy-authorization', 'sec-fetch-mode', 'x-amzn-trace-id', 'range', 'x-amz-meta-a'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
);
const headerValue = fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\t\x20-\x7e]/g, ''));
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 6 }).map((h) => {
  // One header per name, whatever its case (as an HTTP request carries them); never the host, which is the request's own.
  const seen = new Set<string>();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    // Nor any the signature makes itself (callers pass none).
    if (seen.has(k.toLowerCase()) || ['host', 'x-amz-security-token', 'x-amz-content-sha256', 'x-amz-date', 'authorization', 'date'].includes(k.toLowerCase())) continue;
    seen.add(k.toLowerCase());
    out[k] = v;
  }
  return out;
});
const body = fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })), { nil: undefined });
const path = fc.oneof(
  // What the @connections client sends: a stage, then a connection id escaped as a path label.
  fc.tuple(fc.constantFrom('', '/prod', '/dev/'), label).map(([stage, id]) => `${stage.replace(/\/$/, '')}/@connections/${encodeLabel(id)}`),
  fc.constant('/'),
  // Raw paths, as the SDK's own path escaping and normalizing must agree on them.
  fc.array(label, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
);

describe('SigV4Signer', () => {
  it("signs as the SDK's own signer does, for any credentials, scope, date, path, headers and body", { timeout: 30_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(credentials, region, service, date, fc.constantFrom('POST', 'DELETE', 'GET'), path, headers, body, fc.boolean(), async (creds, reg, svc, at, method, p, h, b, hashed) => {
        const req = { method, path: p, headers: { ...h, host: 'abc.execute-api.us-east-1.amazonaws.com' } as Record<string, string>, ...(b !== undefined && { body: b }) };
        // The fan-out sends its frame's hash, made once: both signers must take it as the payload's.
        if (hashed) req.headers['x-amz-content-sha256'] = createHash('sha256').update(b ?? '').digest('hex');
        const expected = await sdkSign(creds, reg, svc, at, req);
        const got = ours(creds, reg, svc).sign(req, at);
        expect(got.authorization).toBe(expected.authorization);
        // Every header the SDK's signer sends, ours sends with the same value (and no other).
        expect(got).toEqual(expected);
      }),
      { numRuns: 600 },
    );
  });

  it('signs S3 paths as sent, and leaves the payload hash header out when told, as the SDK does', { timeout: 30_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(credentials, region, date, path, headers, body, fc.boolean(), async (creds, reg, at, p, h, b, applyChecksum) => {
        const req = { method: 'PUT', path: p, headers: { ...h, host: 'bucket.s3.amazonaws.com' }, ...(b !== undefined && { body: b }) };
        const expected = await sdkSign(creds, reg, 's3', at, req, { uriEscapePath: false, applyChecksum });
        expect(ours(creds, reg, 's3', { uriEscapePath: false, applyChecksum }).sign(req, at)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('escapes a connection id twice in the signed path (once on the wire, once more when signing)', async () => {
    const at = new Date('2026-11-30T08:00:00Z');
    const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    const req = { method: 'POST', path: `/prod/@connections/${encodeLabel('Ab=+/c d')}`, headers: { host: 'x.execute-api.eu-west-3.amazonaws.com' } };
    expect(req.path).toBe('/prod/@connections/Ab%3D%2B%2Fc%20d');
    expect(ours(creds, 'eu-west-3', 'execute-api').sign(req, at)).toEqual(await sdkSign(creds, 'eu-west-3', 'execute-api', at, req));
    // Signed once only, the signature differs: what AWS would refuse.
    expect(ours(creds, 'eu-west-3', 'execute-api', { uriEscapePath: false }).sign(req, at).authorization).not.toBe((await sdkSign(creds, 'eu-west-3', 'execute-api', at, req)).authorization);
  });

  it('reads the credentials at each signing, and keys the derived key by secret and day', () => {
    let creds: SigV4Credentials = { accessKeyId: 'AKID1', secretAccessKey: 'one' };
    const signer = new SigV4Signer({ service: 'dynamodb', region: 'us-east-1', credentials: () => creds });
    const req = { method: 'POST', path: '/', headers: { host: 'dynamodb.us-east-1.amazonaws.com' }, body: '{}' };
    const day1 = new Date('2026-11-30T23:59:59Z');
    const first = signer.sign(req, day1);
    creds = { accessKeyId: 'AKID2', secretAccessKey: 'two', sessionToken: 'tok' };
    const second = signer.sign(req, day1);
    expect(second.authorization).toContain('Credential=AKID2/20261130/us-east-1/dynamodb/aws4_request');
    expect(second['x-amz-security-token']).toBe('tok');
    expect(second.authorization).not.toBe(first.authorization);
    creds = { accessKeyId: 'AKID1', secretAccessKey: 'one' };
    expect(signer.sign(req, day1)).toEqual(first);
    const next = signer.sign(req, new Date('2026-12-01T00:00:00Z'));
    expect(next.authorization).toBe(new SigV4Signer({ service: 'dynamodb', region: 'us-east-1', credentials: () => creds }).sign(req, new Date('2026-12-01T00:00:00Z')).authorization);
  });
});

// AWS's own published examples, so the SDK's signer is not the only judge.
describe("SigV4Signer against AWS's published examples", () => {
  const suite = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const at = new Date('2015-08-30T12:36:00Z');
  const plain = () => new SigV4Signer({ service: 'service', region: 'us-east-1', credentials: () => suite, applyChecksum: false });

  it('get-vanilla (the SigV4 test suite)', () => {
    expect(plain().sign({ method: 'GET', path: '/', headers: { Host: 'example.amazonaws.com' } }, at).authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('post-vanilla (the SigV4 test suite)', () => {
    expect(plain().sign({ method: 'POST', path: '/', headers: { Host: 'example.amazonaws.com' } }, at).authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    );
  });

  it("S3's GET Object example: a range header and the payload hash header signed", () => {
    const s3 = new SigV4Signer({
      service: 's3',
      region: 'us-east-1',
      credentials: () => ({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }),
      uriEscapePath: false,
    });
    const signed = s3.sign({ method: 'GET', path: '/test.txt', headers: { Host: 'examplebucket.s3.amazonaws.com', Range: 'bytes=0-9' } }, new Date('2013-05-24T00:00:00Z'));
    expect(signed['x-amz-content-sha256']).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(signed.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });
});
