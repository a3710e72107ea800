/** One colour per source everywhere: charts, legends and the flow diagram. */
export const COLORS = {
  ownPv: '#e0a100',
  community: '#2f7d32',
  grid: '#68778a',
  toCommunity: '#8bc34a',
  toGrid: '#a9b7c6',
  home: '#1d5fa8',
} as const;
