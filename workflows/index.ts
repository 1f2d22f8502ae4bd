// The single entry of the workflow bundle.
export { caseWorkflow } from './caseWorkflow.js';
export { sweepUnattachedFilesWorkflow } from './maintenance/sweepUnattachedFiles.js';
