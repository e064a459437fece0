import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startSecretsManager, type LocalSecretsManager } from '#infra/local/secrets-manager.ts';
import { alterBeforeSigning } from '#test/support/aws-requests.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:parley-cursor-key-local0';
const known = { accessKeyId: 'local', secretAccessKey: 'local-secret' };

let sm: LocalSecretsManager;
const clientWith = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
  new SecretsManagerClient({ endpoint: sm.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

beforeAll(async () => {
  sm = await startSecretsManager({ secrets: [{ arn: ARN, name: 'parley-cursor-key', value: 'k'.repeat(43) }], credentials: [known] });
});
afterAll(() => sm.stop());

describe('the local Secrets Manager', () => {
  it('answers GetSecretValue by ARN or name to a request signed with the runtime\'s credentials', async () => {
    const client = clientWith(known);
    for (const id of [ARN, 'parley-cursor-key']) {
      const out = await client.send(new GetSecretValueCommand({ SecretId: id }));
      expect(out).toMatchObject({ ARN, Name: 'parley-cursor-key', SecretString: 'k'.repeat(43) });
    }
  });

  it('refuses unknown credentials and a wrong secret key, as AWS does', async () => {
    await expect(clientWith({ accessKeyId: 'other', secretAccessKey: 'local-secret' }).send(new GetSecretValueCommand({ SecretId: ARN }))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
    });
    await expect(clientWith({ accessKeyId: 'local', secretAccessKey: 'wrong' }).send(new GetSecretValueCommand({ SecretId: ARN }))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
    });
  });

  it('refuses an unsigned request and answers a secret it does not hold with ResourceNotFoundException', async () => {
    const unsigned = await fetch(sm.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
      body: JSON.stringify({ SecretId: ARN }),
    });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    await expect(clientWith(known).send(new GetSecretValueCommand({ SecretId: 'parley-other' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('refuses, signed as it is, another operation, a body that is not JSON and a SecretId that is not the body\'s own, as AWS does', async () => {
    const otherOperation = alterBeforeSigning(clientWith(known), (req) => {
      req.headers['x-amz-target'] = 'secretsmanager.DeleteSecret';
    });
    await expect(otherOperation.send(new GetSecretValueCommand({ SecretId: ARN }))).rejects.toMatchObject({ name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
    const notJson = alterBeforeSigning(clientWith(known), (req) => {
      req.body = String(req.body).slice(0, -1);
    });
    await expect(notJson.send(new GetSecretValueCommand({ SecretId: ARN }))).rejects.toMatchObject({ name: 'SerializationException', $metadata: { httpStatusCode: 400 } });
    const inherited = alterBeforeSigning(clientWith(known), (req) => {
      req.body = `{"__proto__":${String(req.body)}}`;
    });
    await expect(inherited.send(new GetSecretValueCommand({ SecretId: ARN }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});
