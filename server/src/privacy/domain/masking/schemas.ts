/**
 * The exports masking rules apply to, registered by name like allocation rules: each names its
 * fields and their types, so a rule set is checked against what the export really holds, and
 * a field nobody declared is never passed through unjudged.
 */

/**
 * - `identifier`: member id, metering point number (personal: links to a person);
 * - `name`, `email`, `address`, `text`: personal free text;
 * - `instant`: a UTC ISO instant on the quarter-hour grid (the row's time);
 * - `energy`: whole Wh, summed when rows are generalised to hours;
 * - `quality`: measured / estimated / missing, the worst kept when generalised;
 * - `number`: any other figure (a share, a factor), not summable.
 */
export type FieldType = 'identifier' | 'name' | 'email' | 'address' | 'text' | 'instant' | 'energy' | 'quality' | 'number';

export interface ExportField {
  readonly name: string;
  readonly type: FieldType;
  /** Present in some files only (e.g. `self_consumed_wh` when PV is metered). */
  readonly optional?: boolean;
}

export interface ExportSchema {
  readonly name: string;
  readonly summary: string;
  readonly fields: readonly ExportField[];
}

const schemas = new Map<string, ExportSchema>();

export function registerExportSchema(schema: ExportSchema): void {
  if (schemas.has(schema.name)) throw new Error(`export schema ${schema.name} is registered twice`);
  const names = new Set(schema.fields.map((f) => f.name));
  if (names.size !== schema.fields.length) throw new Error(`export schema ${schema.name} names a field twice`);
  schemas.set(schema.name, schema);
}

export const getExportSchema = (name: string): ExportSchema | undefined => schemas.get(name);
export const exportSchemaNames = (): string[] => [...schemas.keys()];

/** `gridshare allocate`'s output: one row per quarter hour and member. */
registerExportSchema({
  name: 'allocation',
  summary: 'the allocation CSV of gridshare allocate (interval_start, member_id, energy by source)',
  fields: [
    { name: 'interval_start', type: 'instant' },
    { name: 'member_id', type: 'identifier' },
    { name: 'from_community_wh', type: 'energy' },
    { name: 'to_community_wh', type: 'energy' },
    { name: 'from_grid_wh', type: 'energy' },
    { name: 'to_grid_wh', type: 'energy' },
    { name: 'self_consumed_wh', type: 'energy', optional: true },
  ],
});

/**
 * A regulator's per-metering-point quarter-hour report (shaped like the Austrian EDA
 * consumption records a community exchanges with its grid operator): who, where, how much.
 */
export interface RegulatorIntervalRow {
  readonly metering_point: string;
  readonly member_name: string;
  readonly member_email?: string;
  readonly address: string;
  readonly interval_start: string;
  readonly consumption_wh: number | null;
  readonly from_community_wh: number | null;
  readonly production_wh: number | null;
  readonly to_community_wh: number | null;
  readonly quality: 'measured' | 'estimated' | 'missing';
  readonly participation_factor?: number;
}

registerExportSchema({
  name: 'regulator-intervals',
  summary: 'per metering point and quarter hour: member, address, consumption, community share, production, quality',
  fields: [
    { name: 'metering_point', type: 'identifier' },
    { name: 'member_name', type: 'name' },
    { name: 'member_email', type: 'email', optional: true },
    { name: 'address', type: 'address' },
    { name: 'interval_start', type: 'instant' },
    { name: 'consumption_wh', type: 'energy' },
    { name: 'from_community_wh', type: 'energy' },
    { name: 'production_wh', type: 'energy' },
    { name: 'to_community_wh', type: 'energy' },
    { name: 'quality', type: 'quality' },
    { name: 'participation_factor', type: 'number', optional: true },
  ],
});
