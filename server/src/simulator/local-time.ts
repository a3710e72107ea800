export { createLocalClock, type LocalClock, type LocalTime } from '../kernel/calendar.js';
export { DAY_MS } from '../kernel/time.js';
