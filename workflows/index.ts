// The single entry of the workflow bundle.
export { caseWorkflow } from './caseWorkflow.js';
export { sweepUnattachedFilesWorkflow } from './maintenance/sweepUnattachedFiles.js';
export { escalateFollowUpsWorkflow } from './maintenance/escalateFollowUps.js';
export { forwardLiaisonMessageWorkflow } from './liaison/forwardLiaisonMessage.js';
