/**
 * Tollgate CDK constructs: `DataPlane` (customer account) and `ControlPlane` (vendor account).
 */
export { DataPlane, GATEWAY_IMAGE_EXCLUDE, gatewayImageFromPackage, SYNC_AGE_METRIC } from './data-plane.js';
export type {
  CacheAuthentication,
  CacheEngine,
  DataPlaneAlarmProps,
  DataPlaneCacheProps,
  DataPlaneLimitsProps,
  DataPlaneProps,
  DataPlaneTelemetryProps,
  DataPlaneTracingProps,
  LogMode,
  RateLimitOnCacheDown,
} from './data-plane/props.js';
export { DataPlaneStack, type DataPlaneStackProps } from './data-plane-stack.js';
export { ControlPlane, ControlPlaneStack, type ControlPlaneStackProps } from './control-plane.js';
export type {
  ControlPlaneDatabaseProps,
  ControlPlaneFunctionProps,
  ControlPlaneProps,
  MetricsStore,
} from './control-plane/props.js';
export { PACKAGE_ROOT } from './paths.js';
