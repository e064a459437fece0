import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '#shared/env.ts';

/** The functions that hand out or read page cursors (`GET /rooms`, `/rooms/public`, `/search`). */
export const CURSOR_FNS = ['http-list-rooms', 'http-list-public-rooms', 'http-search'] as const;

/**
 * The key page cursors are authenticated with (HMAC-SHA256): a secret the stack generates, read
 * once per Lambda container by the functions that make or open cursors.
 */
export class CursorKey extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description: 'Parley: the key page cursors are signed with',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      // Nothing is lost with it: a new key only makes outstanding cursors invalid.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'A signing key for page cursors, no credential of another system; a new value (a redeploy of the secret) only ends outstanding cursors.',
    });
  }

  /** The cursor key's read grant: the secret's ARN in the function's environment, GetSecretValue on it alone. */
  grantCursorKeyRead(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment(ENV.cursorKeySecretArn, this.secret.secretArn);
    this.secret.grantRead(fn);
  }
}
