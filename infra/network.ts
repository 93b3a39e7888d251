/**
 * Where a connector's functions run: in a VPC when TigerGraph's Kafka or RESTPP is private.
 * Per connector (`tigerstream.vpc.subnet.ids` + `tigerstream.vpc.security.group.ids`), or for
 * the whole stage with Serverless params `vpcSubnetIds` + `vpcSecurityGroupIds` (`--param` on
 * the command line, or `params.<stage>` in serverless.yml); a connector's own keys win.
 */
import {
  SECURITY_GROUP_IDS_ALLOWED,
  SUBNET_IDS_ALLOWED,
  isSecurityGroupIdList,
  isSubnetIdList,
  type ConnectorConfig,
} from '../lib/config/index.ts';
import { ConfigError } from '../lib/errors/index.ts';
import { idList } from './source.ts';

export interface Vpc {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

/** The Serverless params that place every function of the stage. */
export const VPC_PARAMS = {
  subnets: 'vpcSubnetIds',
  securityGroups: 'vpcSecurityGroupIds',
} as const;

/**
 * The stage's VPC from its params (empty or absent: none).
 *
 * @throws ConfigError `CONFIG_SUBNET_IDS_INVALID`, `CONFIG_SECURITY_GROUP_IDS_INVALID` or
 *   `CONFIG_VPC_INCOMPLETE`, naming the param.
 */
export function stageVpc(
  subnets: string | undefined,
  securityGroups: string | undefined,
): Vpc | undefined {
  const s = subnets?.trim() ?? '';
  const g = securityGroups?.trim() ?? '';
  const param = (name: string) => `serverless param ${name}`;
  if (s !== '' && !isSubnetIdList(s))
    throw new ConfigError(
      'CONFIG_SUBNET_IDS_INVALID',
      `${param(VPC_PARAMS.subnets)}: found "${s}"; allowed: ${SUBNET_IDS_ALLOWED} [CONFIG_SUBNET_IDS_INVALID]`,
    );
  if (g !== '' && !isSecurityGroupIdList(g))
    throw new ConfigError(
      'CONFIG_SECURITY_GROUP_IDS_INVALID',
      `${param(VPC_PARAMS.securityGroups)}: found "${g}"; allowed: ${SECURITY_GROUP_IDS_ALLOWED} [CONFIG_SECURITY_GROUP_IDS_INVALID]`,
    );
  if ((s === '') !== (g === ''))
    throw new ConfigError(
      'CONFIG_VPC_INCOMPLETE',
      `${param(s === '' ? VPC_PARAMS.securityGroups : VPC_PARAMS.subnets)} is set but ${param(s === '' ? VPC_PARAMS.subnets : VPC_PARAMS.securityGroups)} is not; the functions join a VPC only with both; allowed: both set, or neither [CONFIG_VPC_INCOMPLETE]`,
    );
  return s === '' ? undefined : { subnetIds: idList(s), securityGroupIds: idList(g) };
}

/** A connector's functions' VPC: its own keys (validated together), else the stage's. */
export function functionVpc(c: ConnectorConfig, stage: Vpc | undefined): Vpc | undefined {
  const subnetIds = idList(c.settings['tigerstream.vpc.subnet.ids']);
  const securityGroupIds = idList(c.settings['tigerstream.vpc.security.group.ids']);
  if (subnetIds.length > 0 && securityGroupIds.length > 0) return { subnetIds, securityGroupIds };
  return stage;
}
