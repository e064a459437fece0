import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccountRecovery, Mfa, UserPool, type UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { Settings } from './settings.ts';

/**
 * Who signs the end-user JWTs: an existing OpenID Connect issuer when the operator gives one,
 * otherwise a Cognito user pool created here. Clients send the pool's ID token, so the audience is
 * the app client id.
 */
export class Identity extends Construct {
  readonly issuer: string;
  readonly audience: string;
  readonly userPool?: UserPool;
  readonly userPoolClient?: UserPoolClient;

  constructor(scope: Construct, id: string, settings: Pick<Settings, 'externalIssuer' | 'selfSignUp'>) {
    super(scope, id);
    if (settings.externalIssuer) {
      this.issuer = settings.externalIssuer.issuer;
      this.audience = settings.externalIssuer.audience;
      return;
    }

    const pool = new UserPool(this, 'UserPool', {
      signInAliases: { email: true },
      autoVerify: { email: true },
      selfSignUpEnabled: settings.selfSignUp,
      standardAttributes: {
        email: { required: true, mutable: true },
        fullname: { required: false, mutable: true },
        preferredUsername: { required: false, mutable: true },
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(pool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason: 'Chat end users may enrol a TOTP second factor (MFA optional); requiring it for every user is a product decision left to the operator.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason: 'Threat protection needs the paid Plus feature plan (per-MAU cost); the Essentials plan with a strong password policy is the default, operators can upgrade.',
      },
    );

    this.userPool = pool;
    this.userPoolClient = pool.addClient('WebClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      // Clients sign in with SRP against the pool; no hosted UI, so no OAuth redirects to allow.
      disableOAuth: true,
      preventUserExistenceErrors: true,
    });
    const { region, urlSuffix } = Stack.of(this);
    this.issuer = `https://cognito-idp.${region}.${urlSuffix}/${pool.userPoolId}`;
    this.audience = this.userPoolClient.userPoolClientId;
  }
}
