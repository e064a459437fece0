import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '#shared/env.ts';
import { functionsReadingSecret } from '#infra/permissions.ts';

/**
 * The key page cursors are authenticated with (HMAC-SHA256): a secret the stack generates, read
 * once per Lambda container by the functions the permission table lets read it (their environment
 * names its ARN; the read grant itself comes from the table).
 */
export class CursorKey extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, functions: ReadonlyMap<string, NodejsFunction>) {
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
    for (const fn of functionsReadingSecret('cursor-key')) functions.get(fn)?.addEnvironment(ENV.cursorKeySecretArn, this.secret.secretArn);
  }
}
