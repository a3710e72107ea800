export * from '../kernel/money.js';
