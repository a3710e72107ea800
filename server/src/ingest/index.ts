/** ingest: the public surface other capabilities and the composition root use. */
export { type ConnectLimit, ConnectionGuard } from './connection-guard.js';
export { DeviceDirectory, type DeviceRecord } from './device-directory.js';
export { DEVICE_CHANGES_CHANNEL, DeviceChanges } from './device-changes.js';
export { type DeviceStateView, type IngestFigures, deviceStateViews, ingestFigures } from './device-data.js';
export { embeddedIngestHandlers } from './mqtt-embedded.js';
export { type ExternalIngest, startExternalIngest } from './mqtt-external.js';
export { ingestRoutes } from './routes.js';
export { RefusalLog } from './refusal-log.js';
export { readingPartitionsJob } from './partitions.js';
export { DEVICE_OFFLINE_JOB, deviceOfflineJob } from './offline.js';
export { subscribeIngest } from './job.js';
export { recordHeartbeat } from './heartbeats.js';
export { type AuthenticatedDevice, type FrameDecoder, IngestService } from './service.js';
export { type CommittedMessage, ReadingWriter } from './writer.js';
export {
  type PointReading, type SeriesProbes, type StoredReading, latestReadingsIn, meterExchangesAt, readingSpan, readingsAround, readingsForIntervals,
  recordDeviceEvent,
} from './store.js';
export { deleteReadingsOfDevices, devicesWithReadings } from './store.js';
export { deleteReadingsAtPoints, deleteReadingsBefore, deleteReadingsInWindows, deviceReadingsInWindows } from './store.js';
