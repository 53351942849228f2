/**
 * What the policy engine knows of the sample catalog: names, effects, environments, resources, argument defaults.
 * Pure data, so `gatehouse policy analyze|eval` and the policy tests can use it without a
 * database. The sample catalog's tool definitions must agree with it (a test checks they do).
 */
import type { ToolInfo } from '../../../policies/types';

export const SAMPLE_TOOL_INFO: readonly ToolInfo[] = [
  { name: 'billing.query', description: 'Look up billing records of production by customer and period', effect: 'read', environment: 'production', resource: 'billing', estimatesBlastRadius: false, argumentDefaults: { limit: 50 } },
  { name: 'billing.summary', description: 'Billing summary of one customer over 1 to 24 months', effect: 'read', environment: 'production', resource: 'billing', estimatesBlastRadius: false },
  { name: 'billing.deleteRecords', description: 'Delete billing records of production matching a filter', effect: 'destructive', environment: 'production', resource: 'billing', estimatesBlastRadius: true },
  { name: 'volumes.list', description: 'List storage volumes and where they are mounted', effect: 'read', environment: 'production', resource: 'volumes', estimatesBlastRadius: false, argumentDefaults: { limit: 100 } },
  { name: 'volumes.unmount', description: 'Unmount a production volume', effect: 'write', environment: 'production', resource: 'volumes', estimatesBlastRadius: false },
  { name: 'volumes.delete', description: 'Delete a production volume and its data', effect: 'destructive', environment: 'production', resource: 'volumes', estimatesBlastRadius: false },
  { name: 'services.scale', description: 'Change the replica count of a production service', effect: 'write', environment: 'production', resource: 'services', estimatesBlastRadius: false },
  { name: 'services.restart', description: 'Restart a production service', effect: 'write', environment: 'production', resource: 'services', estimatesBlastRadius: false },
  { name: 'env.modifyProduction', description: 'Set an environment variable of a production service', effect: 'write', environment: 'production', resource: 'services', estimatesBlastRadius: false },
  { name: 'secrets.rotate', description: 'Rotate the secrets of a production service', effect: 'write', environment: 'production', resource: 'secrets', estimatesBlastRadius: false },
  { name: 'staging.writeConfig', description: 'Write a configuration value in staging', effect: 'write', environment: 'staging', resource: 'config', estimatesBlastRadius: false },
  { name: 'audit.modify', description: 'Modify the audit log (always blocked)', effect: 'destructive', environment: 'production', resource: 'audit', estimatesBlastRadius: false },
];
