import { CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat, CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  LogGroupLogDestination,
  WebSocketApi,
  WebSocketStage,
  type HttpStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer, WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DEFAULT_SERVICE_NAME, ENV } from '#shared/env.ts';
import { createFunctions } from './constructs/functions.ts';
import { StackSecret } from './constructs/stack-secret.ts';
import { OutboundEvents } from './constructs/events.ts';
import { grantFromPermissionTable, type PermissionTargets } from './constructs/permissions.ts';
import { StreamFanout } from './constructs/fanout.ts';
import { AttachmentPipeline } from './constructs/attachments.ts';
import { findingId } from './constructs/nag.ts';
import { Identity } from './constructs/identity.ts';
import { WebApp } from './constructs/web-app.ts';
import { readSettings, type Settings } from './constructs/settings.ts';
import { createAttachmentsBucket, createTable } from './constructs/storage.ts';
import { eventsStreamFn, fanoutWorkerFn, httpRoutes, streamFn, WS_ROUTE_SELECTION, wsAuthorizerFn, wsRoutes } from './routes.ts';

const WS_STAGE = 'prod';
const PUSH_TO_CLOUDWATCH = ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs');

/**
 * Parley in one stack: the table, the attachments bucket, the identity provider, one function per
 * entry of the route table, the HTTP and WebSocket APIs in front of them, and the stream fan-out.
 */
export class ParleyStack extends Stack {
  readonly table: Table;
  readonly bucket: Bucket;
  readonly identity: Identity;
  readonly functions: ReadonlyMap<string, NodejsFunction>;
  readonly httpStage: HttpStage;
  readonly webSocketStage: WebSocketStage;
  /** The stack's secrets, by the permission table's names. */
  readonly secrets: PermissionTargets['secrets'];
  /** Where outbound events go. */
  readonly eventBus: PermissionTargets['eventBus'];

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const settings = readSettings(this.node);

    this.table = createTable(this);
    this.bucket = createAttachmentsBucket(this, settings.corsOrigins);
    this.identity = new Identity(this, 'Identity', settings);

    const webSocketApi = new WebSocketApi(this, 'WebSocketApi', { routeSelectionExpression: WS_ROUTE_SELECTION });
    this.webSocketStage = new WebSocketStage(this, 'WebSocketStage', {
      webSocketApi,
      stageName: WS_STAGE,
      autoDeploy: true,
      throttle: settings.wsThrottle,
      accessLogSettings: { destination: new LogGroupLogDestination(this.accessLogGroup('WebSocketAccessLogs')) },
    });
    this.webSocketStage.node.addDependency(this.apiGatewayLogsRole());

    this.functions = createFunctions(this, {
      [ENV.tableName]: this.table.tableName,
      [ENV.bucketName]: this.bucket.bucketName,
      [ENV.wsCallbackUrl]: this.webSocketStage.callbackUrl,
      [ENV.jwtIssuer]: this.identity.issuer,
      [ENV.jwtAudience]: this.identity.audience,
      [ENV.serviceName]: DEFAULT_SERVICE_NAME,
      [ENV.logLevel]: 'INFO',
      ...settings.functionSettings,
    });

    this.httpStage = this.httpApi(settings);
    this.webSocketRoutes(webSocketApi);
    const events = new OutboundEvents(this, 'OutboundEvents', {
      table: this.table,
      handler: this.fn(eventsStreamFn),
      functions: this.functions,
      ...(settings.eventBusName && { eventBusName: settings.eventBusName }),
      ...(settings.vapidSubject && { vapidSubject: settings.vapidSubject }),
    });
    this.eventBus = events.bus;
    const cursorKey = new StackSecret(this, 'CursorKey', {
      name: 'cursor-key',
      description: 'Parley: the key page cursors are signed with',
      // Nothing is lost with it: a new key only makes outstanding cursors invalid.
      removalPolicy: RemovalPolicy.DESTROY,
      noRotationReason: 'A signing key for page cursors, no credential of another system; a new value (a redeploy of the secret) only ends outstanding cursors.',
      functions: this.functions,
      arnVariable: ENV.cursorKeySecretArn,
      secretId: 'Secret',
    });
    this.secrets = { 'cursor-key': cursorKey.secret, 'vapid-seed': events.vapidSeed };
    // Every statement of the functions' roles comes from the permission table (infra/permissions.ts).
    grantFromPermissionTable(this.functions, this);
    new StreamFanout(this, 'StreamPipeline', { table: this.table, handler: this.fn(streamFn), worker: this.fn(fanoutWorkerFn) });
    new AttachmentPipeline(this, 'AttachmentPipeline', { bucket: this.bucket, table: this.table, functions: this.functions });

    // Optional hosting of the web app (S3 + CloudFront + Cognito hosted sign-in).
    if (WebApp.enabled(this.node)) new WebApp(this, 'WebApp', { identity: this.identity, httpUrl: this.httpStage.url, wsUrl: this.webSocketStage.url });

    new CfnOutput(this, 'HttpUrl', { value: this.httpStage.url });
    new CfnOutput(this, 'WebSocketUrl', { value: this.webSocketStage.url });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: events.bus.eventBusName, description: 'Where Parley puts its outbound events (source parley)' });
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    if (this.identity.userPool && this.identity.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.identity.userPoolClient.userPoolClientId });
    }
  }

  private fn(name: string): NodejsFunction {
    const handler = this.functions.get(name);
    if (!handler) throw new Error(`No function ${name}: is it in allFunctions()?`);
    return handler;
  }

  /**
   * WebSocket stages (unlike HTTP APIs) log through API Gateway's account-wide CloudWatch role; a
   * fresh account has none and the stage would fail to deploy. Retained: other stacks may rely on it.
   */
  private apiGatewayLogsRole(): CfnAccount {
    const role = new Role(this, 'ApiGatewayLogsRole', {
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [PUSH_TO_CLOUDWATCH],
    });
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(role).acknowledge({
      id: findingId(role, 'AwsSolutions-IAM4', 'Policy', PUSH_TO_CLOUDWATCH.managedPolicyArn),
      reason: 'The AWS managed policy made for API Gateway\'s account logging role: CloudWatch Logs writes only.',
    });
    return new CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
  }

  private accessLogGroup(id: string): LogGroup {
    return new LogGroup(this, id, { retention: RetentionDays.THREE_MONTHS });
  }

  private httpApi(settings: Settings): HttpStage {
    const api = new HttpApi(this, 'HttpApi', {
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: settings.corsOrigins,
        allowHeaders: ['Authorization', 'Content-Type'],
        allowMethods: [
          CorsHttpMethod.GET,
          CorsHttpMethod.POST,
          CorsHttpMethod.PUT,
          CorsHttpMethod.PATCH,
          CorsHttpMethod.DELETE,
        ],
      },
    });
    const stage = api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: settings.httpThrottle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup('HttpAccessLogs')),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const jwt = new HttpJwtAuthorizer('JwtAuthorizer', this.identity.issuer, { jwtAudience: [this.identity.audience] });
    const none = new HttpNoneAuthorizer();
    // `/service/...`: the host platform's back end signs with SigV4; grant it execute-api:Invoke on those routes.
    const iam = new HttpIamAuthorizer();
    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const route of httpRoutes) {
      let integration = integrations.get(route.fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${this.fn(route.fn).node.id}Integration`, this.fn(route.fn));
        integrations.set(route.fn, integration);
      }
      const [added] = api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        authorizer: route.auth === 'jwt' ? jwt : route.auth === 'iam' ? iam : none,
      });
      if (route.auth === 'none' && added) {
        Validations.of(added).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: 'The route table marks this route public (the health probe); it reads no user data.',
        });
      }
    }
    return stage;
  }

  private webSocketRoutes(api: WebSocketApi): void {
    // API Gateway answers 401 without calling the authorizer when a listed identity source is
    // missing; tokens come from `?token=` or the Authorization header, so list none and let the
    // function decide.
    const authorizer = new WebSocketLambdaAuthorizer('ConnectAuthorizer', this.fn(wsAuthorizerFn), {
      identitySource: [],
    });
    for (const { routeKey, fn } of wsRoutes) {
      const isLifecycle = routeKey === '$connect' || routeKey === '$disconnect';
      const route = api.addRoute(routeKey, {
        integration: new WebSocketLambdaIntegration(`${this.fn(fn).node.id}Integration`, this.fn(fn)),
        authorizer: routeKey === '$connect' ? authorizer : undefined,
        // The handler's return value is the reply frame (ack or error).
        returnResponse: !isLifecycle,
      });
      if (routeKey !== '$connect') {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: 'WebSocket APIs authorize once, on $connect; later frames arrive on the already authorized connection.',
        });
      }
    }
  }
}
