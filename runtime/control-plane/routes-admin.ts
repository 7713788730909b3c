/**
 * The control-plane depth routes (identity, prompts, catalogue, audit, auth), spread into routes.ts
 * so the local adapter and the CDK pick them up like every other route.
 */
export const adminHandlers = ['users', 'platform', 'audit-logs', 'prompts', 'catalogue'] as const;
export type AdminHandlerName = (typeof adminHandlers)[number] | 'workspaces' | 'api-keys';

const members = '/v1/admin/workspaces/{workspaceId}/users';

export const adminRoutes: { routeKey: string; handler: AdminHandlerName }[] = [
  { routeKey: `POST ${members}`, handler: 'workspaces' },
  { routeKey: `GET ${members}`, handler: 'workspaces' },
  { routeKey: `GET ${members}/{userId}`, handler: 'workspaces' },
  { routeKey: `PUT ${members}/{userId}`, handler: 'workspaces' },
  { routeKey: `DELETE ${members}/{userId}`, handler: 'workspaces' },
  { routeKey: 'GET /v1/admin/users', handler: 'users' },
  { routeKey: 'GET /v1/admin/users/{userId}', handler: 'users' },
  { routeKey: 'PUT /v1/admin/users/{userId}', handler: 'users' },
  { routeKey: 'DELETE /v1/admin/users/{userId}', handler: 'users' },
  { routeKey: 'POST /v1/admin/users/invites', handler: 'users' },
  { routeKey: 'GET /v1/admin/users/invites', handler: 'users' },
  { routeKey: 'GET /v1/admin/users/invites/{inviteId}', handler: 'users' },
  { routeKey: 'DELETE /v1/admin/users/invites/{inviteId}', handler: 'users' },
  { routeKey: 'POST /v1/admin/users/invites/{inviteId}/resend', handler: 'users' },
  { routeKey: 'POST /v1/api-keys/{id}/rotate', handler: 'api-keys' },
  { routeKey: 'GET /v1/audit-logs', handler: 'audit-logs' },
  { routeKey: 'POST /v1/platform/organisations', handler: 'platform' },
  { routeKey: 'GET /v1/platform/organisations', handler: 'platform' },
  { routeKey: 'GET /v1/platform/organisations/{organisationId}', handler: 'platform' },
  { routeKey: 'PUT /v1/platform/organisations/{organisationId}', handler: 'platform' },
  { routeKey: 'POST /v1/prompts', handler: 'prompts' },
  { routeKey: 'GET /v1/prompts', handler: 'prompts' },
  { routeKey: 'GET /v1/prompts/{promptId}', handler: 'prompts' },
  { routeKey: 'PUT /v1/prompts/{promptId}', handler: 'prompts' },
  { routeKey: 'DELETE /v1/prompts/{promptId}', handler: 'prompts' },
  { routeKey: 'PUT /v1/prompts/{promptId}/makeDefault', handler: 'prompts' },
  { routeKey: 'GET /v1/prompts/{promptId}/versions', handler: 'prompts' },
  { routeKey: 'GET /v1/prompts/{promptId}/versions/{versionId}', handler: 'prompts' },
  { routeKey: 'PUT /v1/prompts/{promptId}/versions/{versionId}', handler: 'prompts' },
  { routeKey: 'POST /v1/prompts/{promptId}/render', handler: 'prompts' },
  { routeKey: 'POST /v1/prompts/partials', handler: 'prompts' },
  { routeKey: 'GET /v1/prompts/partials', handler: 'prompts' },
  { routeKey: 'GET /v1/prompts/partials/{partialId}', handler: 'prompts' },
  { routeKey: 'PUT /v1/prompts/partials/{partialId}', handler: 'prompts' },
  { routeKey: 'DELETE /v1/prompts/partials/{partialId}', handler: 'prompts' },
  { routeKey: 'GET /v1/prompts/partials/{partialId}/versions', handler: 'prompts' },
  { routeKey: 'PUT /v1/prompts/partials/{partialId}/makeDefault', handler: 'prompts' },
  { routeKey: 'POST /v1/guardrails', handler: 'catalogue' },
  { routeKey: 'GET /v1/guardrails', handler: 'catalogue' },
  { routeKey: 'GET /v1/guardrails/{guardrailId}', handler: 'catalogue' },
  { routeKey: 'PUT /v1/guardrails/{guardrailId}', handler: 'catalogue' },
  { routeKey: 'DELETE /v1/guardrails/{guardrailId}', handler: 'catalogue' },
  { routeKey: 'GET /v1/pricing', handler: 'catalogue' },
  { routeKey: 'PUT /v1/pricing/{provider}/{model}', handler: 'catalogue' },
  { routeKey: 'DELETE /v1/pricing/{provider}/{model}', handler: 'catalogue' },
];
