// The single entry of the workflow bundle.
export { caseWorkflow } from './caseWorkflow.js';
export { sweepUnattachedFilesWorkflow } from './maintenance/sweepUnattachedFiles.js';
export { escalateFollowUpsWorkflow } from './maintenance/escalateFollowUps.js';
export { sendNotificationsWorkflow } from './maintenance/sendNotifications.js';
export { forwardLiaisonMessageWorkflow } from './liaison/forwardLiaisonMessage.js';
export { participantWorkflow } from './joint/participantWorkflow.js';
