export { DATE_RANGE_TEXT, formatUtcInstant, isLeapYear, isYearWithinDateRange, parseUtcInstant } from '../kernel/time.js';
