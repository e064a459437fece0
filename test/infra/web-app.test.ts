import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations, type Environment } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ParleyStack } from '#infra/stack.ts';
import { bundleWebApp } from '#infra/constructs/web-app.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cdkContext = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')).context;

function synth(extra: Record<string, unknown>, opts: { env?: Environment; nag?: boolean } = {}) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'parley-web-'));
  // Bundling skipped: the functions' bundles change nothing checked here; the site's is tested on its own.
  const app = new App({ outdir, context: { ...cdkContext, 'aws:cdk:bundling-stacks': [], ...extra } });
  const stack = new ParleyStack(app, 'Parley', { env: opts.env });
  if (opts.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let synthError: unknown;
  try {
    app.synth();
  } catch (err) {
    synthError = err;
  }
  return { stack, outdir, synthError };
}

describe('web app hosting (-c parley:webApp=true)', () => {
  it('is absent unless asked for', () => {
    const template = Template.fromStack(synth({}).stack);
    template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
  });

  it('serves a private bucket through CloudFront with origin access control, HTTPS only', () => {
    const template = Template.fromStack(synth({ 'parley:webApp': 'true' }).stack);
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }),
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https', ResponseHeadersPolicyId: Match.anyValue() }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } })],
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
      }),
    });
    // Only this distribution may read the site bucket, and nobody reaches it directly.
    const policies = template.findResources('AWS::S3::BucketPolicy');
    const cloudfrontRead = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement).find((s: any) => s.Principal?.Service === 'cloudfront.amazonaws.com');
    expect(cloudfrontRead).toMatchObject({ Action: 's3:GetObject', Effect: 'Allow', Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } } });
    const sites = Object.values(template.findResources('AWS::S3::Bucket')).filter((b: any) => b.Properties?.LoggingConfiguration?.LogFilePrefix === 'site/');
    expect(sites).toHaveLength(1);
    expect((sites[0] as any).Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({ ContentSecurityPolicy: Match.objectLike({ ContentSecurityPolicy: Match.stringLikeRegexp("script-src 'self'") }) }),
      }),
    });
    template.hasOutput('WebAppUrl', Match.anyValue());
  });

  it('signs in through Cognito\'s hosted pages (code flow back to the app) and writes the API URLs into config.json at deploy', () => {
    const template = Template.fromStack(synth({ 'parley:webApp': 'true' }).stack);
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    const clients = Object.values(template.findResources('AWS::Cognito::UserPoolClient')) as any[];
    expect(clients).toHaveLength(1);
    const client = clients[0].Properties;
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(client.AllowedOAuthScopes).toEqual(['openid', 'email', 'profile']);
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
    expect(JSON.stringify(client.CallbackURLs)).toContain('DomainName');
    expect(client.GenerateSecret).toBe(false);

    const deployments = Object.values(template.findResources('Custom::CDKBucketDeployment')) as any[];
    expect(deployments).toHaveLength(1);
    const props = deployments[0].Properties;
    expect(props.DistributionPaths).toEqual(['/*']);
    // config.json: deploy-time values (the stage URLs, the user pool client, the domain) as markers.
    const markers = JSON.stringify(props.SourceMarkers ?? props.SourceMarkersConfig ?? props);
    expect(markers).toMatch(/HttpApi|DefaultStage/);
    expect(markers).toMatch(/WebSocketApi/);
    expect(markers).toMatch(/WebClient/);
  });

  it('bundles the app for the site asset with esbuild on this machine, no container', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'parley-web-asset-'));
    bundleWebApp(outdir);
    expect(readdirSync(outdir).sort()).toEqual(['app.css', 'app.js', 'icon.svg', 'index.html', 'sw.js']);
    expect(readFileSync(path.join(outdir, 'index.html'), 'utf8')).toContain('src="/app.js"');
  });

  it('refuses an external issuer: the hosted sign-in needs the stack\'s user pool', () => {
    expect(() => synth({ 'parley:webApp': 'true', 'parley:jwtIssuer': 'https://issuer.example', 'parley:jwtAudience': 'app' })).toThrow(/parley:jwtIssuer/);
  });

  it.each([
    ['environment-agnostic', undefined],
    ['in a concrete account and region', { account: '123456789012', region: 'eu-central-1' }],
  ])('is cdk-nag clean, %s', (_, env) => {
    const { outdir, synthError } = synth({ 'parley:webApp': 'true' }, { env, nag: true });
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((r: { pluginName: string }) => r.pluginName === 'AwsSolutions');
    const findings = (nag?.violations ?? []).flatMap((v: { ruleName: string; violatingConstructs: { constructPath: string }[] }) =>
      v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`),
    );
    expect(findings).toEqual([]);
    expect(synthError).toBeUndefined();
  });
});
