import type http from 'node:http';
import { json11Fault, readJson11, serveJson11, type Credential, type Json11Answer } from './sigv4.ts';

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

  async function answer(req: http.IncomingMessage, body: Buffer): Promise<Json11Answer> {
    const call = await readJson11(req, body, { service: 'secretsmanager', target: 'secretsmanager.GetSecretValue', credentials: opts.credentials });
    if ('fault' in call) return call.fault;
    const secretId = call.field('SecretId');
    if (typeof secretId !== 'string' || secretId.length === 0) return json11Fault(400, 'InvalidParameterException', 'SecretId is required.');
    const secret = byId.get(secretId);
    if (!secret) return json11Fault(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return {
      status: 200,
      body: { ARN: secret.arn, Name: secret.name, SecretString: secret.value, VersionId: 'local-1', VersionStages: ['AWSCURRENT'], CreatedDate: createdDate },
    };
  }

  return serveJson11(answer, opts.port);
}
