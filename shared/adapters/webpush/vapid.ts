import { createECDH, hkdfSync } from 'node:crypto';

/** A VAPID key pair in the form browsers and web-push take: base64url, public key uncompressed (65 bytes). */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** The order of the P-256 group: a private key is an integer in [1, n-1]. */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/**
 * The key pair derived from a random seed (the stack's secret, or the local data dir's file).
 * Deriving rather than storing a generated pair means every container computes the same keys
 * from a secret CloudFormation can generate, with no first-use write that two cold starts could race.
 */
export function vapidKeysFromSeed(seed: string): VapidKeys {
  if (seed.length < 32) throw new Error('The VAPID seed must be at least 32 characters of randomness');
  for (let counter = 0; ; counter++) {
    const d = Buffer.from(hkdfSync('sha256', seed, 'parley-vapid', `p256-${counter}`, 32));
    const n = BigInt(`0x${d.toString('hex')}`);
    if (n === 0n || n >= P256_ORDER) continue;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d);
    return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: d.toString('base64url') };
  }
}

/** Reads the seed from Secrets Manager (the SDK is loaded on first use only). */
export async function seedFromSecret(secretArn: string): Promise<string> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!out.SecretString) throw new Error(`Secret ${secretArn} has no string value`);
    return out.SecretString;
  } finally {
    client.destroy();
  }
}
