import { Stack, Validations } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { grantsOf, statementOf, type ArnResolver, type ResourceKind, type SecretName } from '#infra/permissions.ts';
import { findingId } from './nag.ts';

/** The deployed resources the permission table's kinds name. */
export interface PermissionTargets {
  table: ITable;
  bucket: IBucket;
  webSocketStage: WebSocketStage;
  secrets: Readonly<Record<SecretName, ISecret>>;
  eventBus: IEventBus;
}

/** The ARNs of the permission table's resource kinds in this stack. */
export function stackArns(t: PermissionTargets, functions: ReadonlyMap<string, NodejsFunction> = new Map()): ArnResolver {
  const stack = Stack.of(t.table);
  return {
    table: () => t.table.tableArn,
    index: (ref) => `${t.table.tableArn}/index/${ref.index}`,
    objects: (ref) => t.bucket.arnForObjects(`${ref.prefix}*`),
    // What grantManagementApiAccess allows: every connection id of this stage.
    secret: (ref) => t.secrets[ref.name].secretArn,
    function: (ref) => {
      const fn = functions.get(ref.fn);
      if (!fn) throw new Error(`The permission table names function ${ref.fn}, which the stack does not make`);
      return fn.functionArn;
    },
    'event-bus': () => t.eventBus.eventBusArn,
    connections: () => `${stack.formatArn({ service: 'execute-api', resource: t.webSocketStage.api.apiId })}/${t.webSocketStage.stageName}/*/@connections/*`,
  };
}

/** Why a wildcard in a resource of each kind is as narrow as it can be (cdk-nag AwsSolutions-IAM5). */
const WILDCARD_REASONS: Partial<Record<ResourceKind, string>> = {
  objects: 'Object keys are attachment ids made at runtime; the grant is limited to one key prefix of the attachments bucket.',
  connections: 'Connection ids exist only at runtime; the grant is limited to the @connections API of this stage.',
};

/**
 * Every IAM statement of the functions' roles, from the permission table (infra/permissions.ts):
 * nothing else grants them data access. (Event source mappings add the stream reads Lambda's
 * poller needs, which are the service's, not the handler's.)
 */
export function grantFromPermissionTable(functions: ReadonlyMap<string, NodejsFunction>, targets: PermissionTargets): void {
  const arns = stackArns(targets, functions);
  for (const [fn, handler] of functions) {
    const acknowledged = new Set<string>();
    for (const grant of grantsOf(fn)) {
      const statement = statementOf(grant, arns);
      handler.addToRolePolicy(
        new PolicyStatement({
          actions: statement.Action,
          resources: statement.Resource,
          ...(statement.Condition && { conditions: statement.Condition }),
        }),
      );
      const reason = WILDCARD_REASONS[grant.on.kind];
      for (const resource of reason ? statement.Resource : []) {
        const id = findingId(handler, 'AwsSolutions-IAM5', 'Resource', resource);
        if (acknowledged.has(id)) continue;
        acknowledged.add(id);
        Validations.of(handler).acknowledge({ id, reason: reason! });
      }
    }
  }
}
