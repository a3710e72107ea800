// The vocabulary is part of the API: declared once in the contract.
export { ALLOCATION_RULES, type AllocationRuleName } from '@gridshare/contract/registry';
