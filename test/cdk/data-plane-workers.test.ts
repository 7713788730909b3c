import { describe, expect, it } from 'vitest';
import { synthDataPlane } from './helpers.js';

function gatewayEnv(cpu?: number): Record<string, string> {
  const { template } = synthDataPlane(cpu ? { cpu, memoryMiB: cpu * 2 } : {});
  const td = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0] as { Properties: { ContainerDefinitions: { Environment: { Name: string; Value: string }[] }[] } };
  return Object.fromEntries(td.Properties.ContainerDefinitions[0].Environment.map((e) => [e.Name, e.Value]));
}

describe('DataPlane gateway workers', () => {
  it('runs one gateway process per whole vCPU of the task, with the Redis cache they need', () => {
    expect(gatewayEnv()).toMatchObject({ TOLLGATE_GATEWAY_WORKERS: '1', TOLLGATE_CACHE: 'redis' });
    expect(gatewayEnv(4096)).toMatchObject({ TOLLGATE_GATEWAY_WORKERS: '4', TOLLGATE_CACHE: 'redis' });
    expect(gatewayEnv(512).TOLLGATE_GATEWAY_WORKERS).toBe('1');
  });
});
