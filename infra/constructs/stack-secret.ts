import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { functionsReadingSecret, type SecretName } from '#infra/permissions.ts';

export interface StackSecretProps {
  /** Its name in the permission table, which grants the read and says who may read it. */
  name: SecretName;
  description: string;
  /** DESTROY when losing it costs nothing lasting; RETAIN when something is bound to its value. */
  removalPolicy: RemovalPolicy;
  /** Why it is never rotated (cdk-nag's AwsSolutions-SMG4 asks). */
  noRotationReason: string;
  /** Every function by name: its readers get `environment` and its ARN under `arnVariable`. */
  functions: ReadonlyMap<string, LambdaFunction>;
  arnVariable: string;
  environment?: Readonly<Record<string, string>>;
  /** The secret's own id under this construct, when a deployed stack already has it by that path. */
  secretId?: string;
}

/**
 * A random value the stack generates for its own functions (a signing key, a seed), read once
 * per Lambda container by the functions the permission table lets read it: their environment
 * names its ARN; the read grant itself comes from the table.
 */
export class StackSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: StackSecretProps) {
    super(scope, id);
    // `Default`: the secret's logical id is this construct's, as if it stood in its place. A
    // deployed secret keeps the id it has: a new logical id is a new secret, a new value.
    this.secret = new Secret(this, props.secretId ?? 'Default', {
      description: props.description,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: props.noRotationReason });
    for (const name of functionsReadingSecret(props.name)) {
      const fn = props.functions.get(name);
      fn?.addEnvironment(props.arnVariable, this.secret.secretArn);
      for (const [key, value] of Object.entries(props.environment ?? {})) fn?.addEnvironment(key, value);
    }
  }
}
