import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySigV4, type Credential } from './sigv4.ts';

/** A secret the local Secrets Manager serves. */
export interface LocalSecret {
  arn: string;
  name: string;
  value: string;
}

export interface LocalSecretsManager {
  endpoint: string;
  stop(): Promise<void>;
}

const JSON_TYPE = 'application/x-amz-json-1.1';

/**
 * The part of Secrets Manager the functions use: `GetSecretValue` by ARN or name, over its JSON
 * 1.1 protocol, SigV4-checked as AWS does. The functions reach it exactly as they reach the real
 * service (the SDK's own client, `AWS_ENDPOINT_URL_SECRETS_MANAGER`), so their read goes through
 * the local IAM check like any other call. Anything else is answered as AWS answers an operation
 * or a secret it does not know.
 */
export async function startSecretsManager(opts: { secrets: readonly LocalSecret[]; credentials: readonly Credential[]; port?: number }): Promise<LocalSecretsManager> {
  const byId = new Map<string, LocalSecret>();
  for (const s of opts.secrets) byId.set(s.arn, s).set(s.name, s);
  const createdDate = Math.floor(Date.now() / 1000);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void answer(req, Buffer.concat(chunks)).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': JSON_TYPE, 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(body));
      });
    });
  });

  const fault = (status: number, type: string, message: string) => ({ status, body: { __type: type, message } });

  async function answer(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; body: unknown }> {
    const verdict = await verifySigV4(req, body, { service: 'secretsmanager', credentials: opts.credentials });
    if (verdict === 'unsigned') return fault(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (verdict === 'unknown-key') return fault(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (verdict === 'invalid') return fault(400, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
    if (req.method !== 'POST' || req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
      return fault(400, 'UnknownOperationException', 'The operation is not supported by the local Secrets Manager.');
    }
    let input: unknown;
    try {
      input = JSON.parse(body.toString('utf8'));
    } catch {
      return fault(400, 'SerializationException', 'The request body is not valid JSON.');
    }
    const secretId = typeof input === 'object' && input !== null && Object.hasOwn(input, 'SecretId') ? (input as { SecretId: unknown }).SecretId : undefined;
    if (typeof secretId !== 'string' || secretId.length === 0) return fault(400, 'InvalidParameterException', 'SecretId is required.');
    const secret = byId.get(secretId);
    if (!secret) return fault(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return {
      status: 200,
      body: { ARN: secret.arn, Name: secret.name, SecretString: secret.value, VersionId: 'local-1', VersionStages: ['AWSCURRENT'], CreatedDate: createdDate },
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
