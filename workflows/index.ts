/**
 * The workflows this worker registers: the bundle's entry point (`workflowsPath`).
 */
export { agentSession } from './session';
export { gatehouseLedger } from './ledger';
export { gatehouseAdmissions } from './admissions';
