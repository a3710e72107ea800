/** One colour per source everywhere: charts, legends and the flow diagram. */
export const COLORS = {
  ownPv: '#e0a100',
  community: '#2f7d32',
  grid: '#68778a',
  toCommunity: '#8bc34a',
  toGrid: '#a9b7c6',
  home: '#1d5fa8',
  gas: '#c2571a',
  water: '#1f8fb8',
  heat: '#b3261e',
} as const;
