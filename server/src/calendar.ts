export { bucketBoundaries, currentMonthStart, monthRange, type Resolution } from './kernel/calendar.js';
