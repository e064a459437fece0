import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
// cdk-nag names a granular finding after the policy value as it renders it (partition, region and
// logical ids included, which change with the deployment environment); rendering with its own
// function keeps acknowledgments in step with the synthesized template.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';

/**
 * The id of one granular cdk-nag finding, for `Validations.of(scope).acknowledge`.
 *
 * @example findingId(fn, 'AwsSolutions-IAM5', 'Resource', `${table.tableArn}/index/*`)
 */
export function findingId(scope: IConstruct, rule: string, kind: 'Action' | 'Policy' | 'Resource', value: string): string {
  return `${rule}[${kind}::${flattenCfnReference(Stack.of(scope).resolve(value))}]`;
}
