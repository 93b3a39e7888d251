/**
 * The CloudFormation shapes the generator writes, and the intrinsic functions it uses. Values are
 * plain JSON (what Serverless merges into the template), so a resource's properties stay
 * `unknown` here and each builder types what it writes.
 */

/** One CloudFormation resource. */
export interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DependsOn?: readonly string[];
  readonly DeletionPolicy?: 'Delete' | 'Retain';
  readonly UpdateReplacePolicy?: 'Delete' | 'Retain';
}

/** Resources keyed by logical id. */
export type Resources = Record<string, Resource>;

/** One IAM policy statement (always Allow: the roles grant, never deny). */
export interface Statement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export const ref = (logicalId: string): { Ref: string } => ({ Ref: logicalId });
export const getAtt = (logicalId: string, attribute: string): { 'Fn::GetAtt': string[] } => ({
  'Fn::GetAtt': [logicalId, attribute],
});
export const sub = (text: string): { 'Fn::Sub': string } => ({ 'Fn::Sub': text });

/** An ARN of this stack's account, region and partition: `arn:<partition>:<service>:<region>:<account>:<rest>`. */
export const accountArn = (service: string, rest: string): { 'Fn::Sub': string } =>
  sub(`arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`);
