// The activity side of the worker: projection and housekeeping activities (case queue, database)
// and province activities (province queues, gateway). Each worker registers only the part its
// queues need; workflows import only the types, through separate proxies.
export { createProjectionActivities, type ProjectionActivities, type ProjectionDeps } from './projection.js';
export { createProvinceActivities, type ProvinceActivities, type ProvinceDeps, type ProvinceCall, type ELicenceCheck, type ProvinceCaseStatus, type ProvinceCaseRef, type WithdrawalResult, type SupplementUpload, type CorrectionAnswer } from './province.js';
export { PROVINCE_REFUSED, PROVINCE_RESPONSE_INVALID, type ProvinceRefusal } from './gateway.js';
export { createMaintenanceActivities, type MaintenanceActivities, type MaintenanceDeps } from './maintenance.js';
export { createCalendarActivities, CALENDAR_RANGE, type CalendarActivities } from './calendar.js';
export { createVideoActivities, VIDEO_NOT_CONFIGURED, VIDEO_REFUSED, VIDEO_REQUEST_INVALID, VIDEO_RESPONSE_INVALID, type VideoActivities, type VideoDeps, type VideoRefusal, type VideoService } from './video.js';
