import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '#shared/adapters/sha256.ts';
import type { ApiResponse } from './clients.ts';


/** The SDK's own signer for `execute-api`, as a host platform's back end would use it. */
const signerFor = (credential: ServiceCredential) =>
  new SignatureV4({
    credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
    region: credential.region,
    service: 'execute-api',
    sha256: Sha256,
  });

export interface ServiceCredential {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** The headers of a request to `url` signed with `credential` for `execute-api`, `headers` signed along. */
export async function signedHeaders(url: URL, credential: ServiceCredential, method: string, headers: Record<string, string>, body: string | undefined): Promise<Record<string, string>> {
  // Names come from the URL: no prototype for a `__proto__` parameter to reach; a repeated one is a list.
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of url.searchParams) {
    const prior = query[k];
    query[k] = prior === undefined ? v : [prior].flat().concat(v);
  }
  const signed = await signerFor(credential).sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query,
    headers: { host: url.host, ...headers },
    ...(body !== undefined && { body }),
  });
  return signed.headers as Record<string, string>;
}

/** A `/service/...` call signed as the host platform's back end signs it (SigV4, `execute-api`). */
export async function serviceApi<T = any>(
  httpUrl: string,
  credential: ServiceCredential,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse<T>> {
  const url = new URL(path.replace(/^\//, ''), httpUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = await signedHeaders(url, credential, method, payload === undefined ? {} : { 'content-type': 'application/json' }, payload);
  const res = await fetch(url, { method, headers, ...(payload !== undefined && { body: payload }) });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A request SigV4-signed for `execute-api` with `credential` (the `@connections` API's tests); `tamper` and `sendBody` change it after signing. */
export async function signedFetch(
  url: URL,
  credential: ServiceCredential,
  init: { method?: string; body?: string; tamper?: (headers: Record<string, string>) => void; sendBody?: string } = {},
): Promise<Response> {
  const method = init.method ?? 'GET';
  const headers = await signedHeaders(url, credential, method, {}, init.body);
  init.tamper?.(headers);
  const body = init.sendBody ?? init.body;
  return fetch(url, { method, headers, ...(body !== undefined && { body }) });
}
