import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledge cdk-nag (v3) findings on a construct, with the reason written next to the resource.
 * Each id is either a rule (`AwsSolutions-S1`) or one finding (`AwsSolutions-IAM5[Resource::*]`).
 */
export function acknowledge(scope: IConstruct, reason: string, ...ids: string[]): void {
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The cdk-nag IAM5 finding id of a resource ARN (token or literal), e.g. `<Bucket1234.Arn>/*`,
 * computed the way cdk-nag flattens CloudFormation references.
 */
export function iam5Resource(scope: IConstruct, arn: string): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const o = node as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [delim, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delim);
    }
    if (o['Fn::Sub']) return visit(o['Fn::Sub']);
    if (o['Fn::GetAtt']) {
      const [r, a] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(r)}.${visit(a)}>`;
    }
    if (o['Fn::ImportValue']) return visit(o['Fn::ImportValue']);
    if (o.Ref) return `<${visit(o.Ref)}>`;
    return JSON.stringify(node);
  };
  return `AwsSolutions-IAM5[Resource::${visit(Stack.of(scope).resolve(arn))}]`;
}
