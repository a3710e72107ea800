export { formatUtcInstant, isLeapYear, parseUtcInstant } from '../kernel/time.js';
