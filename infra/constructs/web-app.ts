import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, CfnOutput, DefaultStackSynthesizer, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import {
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { CfnUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type Node } from 'constructs';
import type { Identity } from './identity.ts';
import { findingId } from './nag.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Builds the app (`npm run build:web`) into `outputDir`: the site asset's local bundling. */
export function bundleWebApp(outputDir: string): void {
  execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'web/build.ts'), outputDir], { cwd: root, stdio: 'inherit' });
}

export interface WebAppProps {
  /** The stack's user pool: the app signs people in with its hosted sign-in pages. */
  identity: Identity;
  /** The HTTP and WebSocket API URLs, written into the app's `config.json` at deploy. */
  httpUrl: string;
  wsUrl: string;
  /** The Cognito domain prefix (globally unique per region); default `<stack name>-<account>`. */
  domainPrefix?: string;
}

/**
 * The web app in AWS (`-c parley:webApp=true`): a private S3 bucket read by CloudFront through
 * origin access control, Cognito's hosted sign-in (authorization code with PKCE) on the stack's
 * user pool, and a `config.json` naming the API URLs, written at deploy.
 */
export class WebApp extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly url: string;

  /** Whether the deployment asked for the web app (`parley:webApp`, from cdk.json or `-c`). */
  static enabled(node: Node): boolean {
    const value = node.tryGetContext('parley:webApp');
    return value === true || value === 'true';
  }

  constructor(scope: Construct, id: string, props: WebAppProps) {
    super(scope, id);
    const { userPool, userPoolClient } = props.identity;
    if (!userPool || !userPoolClient) {
      throw new Error('parley:webApp signs people in through the stack\'s own Cognito user pool; it cannot be used with parley:jwtIssuer');
    }
    const stack = Stack.of(this);

    const logs = new Bucket(this, 'Logs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront's standard logs are delivered with ACLs.
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    this.bucket = new Bucket(this, 'Site', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'site/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          // Scripts and styles only from the site itself; the APIs, Cognito and presigned S3 URLs over TLS.
          contentSecurityPolicy:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: blob: data:; connect-src 'self' https: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self' https:",
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });
    this.distribution = new Distribution(this, 'Distribution', {
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
      },
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'A chat app for the operator\'s users wherever they are; operators who must restrict countries add a geo restriction.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason: 'The distribution serves static files only (the APIs are behind API Gateway throttling); a WAF web ACL is a per-deployment cost left to the operator.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason: 'The default *.cloudfront.net certificate fixes the minimum TLS version; operators who add their own domain and certificate set TLSv1.2_2021.',
      },
    );
    this.url = `https://${this.distribution.distributionDomainName}/`;

    // Cognito's hosted sign-in on the stack's user pool, redirecting back to the app.
    const domain = userPool.addDomain('WebSignIn', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? `${stack.stackName.toLowerCase()}-${stack.account}` },
    });
    const client = userPoolClient.node.defaultChild as CfnUserPoolClient;
    client.allowedOAuthFlowsUserPoolClient = true;
    client.allowedOAuthFlows = ['code'];
    client.allowedOAuthScopes = ['openid', 'email', 'profile'];
    client.supportedIdentityProviders = ['COGNITO'];
    client.callbackUrLs = [this.url];
    client.logoutUrLs = [this.url];

    const deployment = new BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [
        Source.asset(path.join(root, 'web'), {
          assetHashType: AssetHashType.OUTPUT,
          bundling: {
            // Built on this machine with esbuild (no container): `npm run build:web` into the asset folder.
            image: DockerImage.fromRegistry('node:22-alpine'),
            local: { tryBundle: (outputDir: string) => (bundleWebApp(outputDir), true) },
          },
        }),
        Source.jsonData('config.json', {
          httpUrl: props.httpUrl,
          wsUrl: props.wsUrl,
          auth: { kind: 'cognito', domain: `${domain.domainName}.auth.${stack.region}.amazoncognito.com`, clientId: userPoolClient.userPoolClientId, redirectUri: this.url },
        }),
      ],
      // File names carry no hash: browsers ask again each time, CloudFront is invalidated on deploy.
      cacheControl: [CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });
    acknowledgeDeploymentHandler(this, deployment, this.bucket);

    new CfnOutput(stack, 'WebAppUrl', { value: this.url });
  }
}

/**
 * BucketDeployment runs CDK's own singleton function (one per stack, outside this construct):
 * its role is CDK's, so its findings are answered on that role, one by one.
 */
function acknowledgeDeploymentHandler(scope: Construct, deployment: BucketDeployment, site: Bucket): void {
  const stack = Stack.of(scope);
  const role = deployment.handlerRole;
  const assets = `arn:${stack.partition}:s3:::cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-${stack.account}-${stack.region}/*`;
  const basic = ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole').managedPolicyArn;
  const copy = 'CDK\'s deployment function copies the asset\'s objects into the site bucket, removes stale ones and invalidates the distribution';
  Validations.of(role).acknowledge(
    { id: findingId(role, 'AwsSolutions-IAM4', 'Policy', basic), reason: 'CDK\'s deployment function logs through AWSLambdaBasicExecutionRole (CloudWatch Logs writes only).' },
    ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${copy}: these S3 action groups, on the CDK asset bucket and the site bucket only.`,
    })),
    { id: findingId(role, 'AwsSolutions-IAM5', 'Resource', assets), reason: `${copy}: it reads this stack's assets from CDK's bootstrap bucket.` },
    { id: findingId(role, 'AwsSolutions-IAM5', 'Resource', `${site.bucketArn}/*`), reason: `${copy}: every object of the site bucket is the app's.` },
    { id: findingId(role, 'AwsSolutions-IAM5', 'Resource', '*'), reason: 'CloudFront invalidations cannot be scoped to a distribution in the policy CDK writes for its deployment function.' },
  );
  const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (!handler) throw new Error('BucketDeployment\'s handler function not found: has aws-cdk-lib renamed it?');
  Validations.of(handler).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'The runtime of CDK\'s own deployment function is chosen by aws-cdk-lib and moves forward with its upgrades.',
  });
}
