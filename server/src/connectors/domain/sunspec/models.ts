import { sizeOf, type PointDef, type PointType } from './points.js';

/**
 * The SunSpec information models Gridshare reads and writes, as point layouts (offsets from the
 * start of a model's body). Layouts are facts of the SunSpec specification; each is written as
 * the ordered list of its points, so offsets follow from the sizes and cannot drift.
 */
export interface ModelDef {
  readonly id: number;
  readonly name: string;
  /** Registers in the body (the L a device announces; some devices announce more or less). */
  readonly length: number;
  readonly points: ReadonlyMap<string, PointDef>;
}

type Row = readonly [name: string, type: Exclude<PointType, 'string'>, sf?: string] | readonly [name: string, type: 'string', size: number];

function model(id: number, name: string, rows: readonly Row[]): ModelDef {
  const points = new Map<string, PointDef>();
  let offset = 0;
  for (const row of rows) {
    const size = row[1] === 'string' ? row[2] : sizeOf(row[1]);
    points.set(row[0], { name: row[0], offset, type: row[1], size, sf: row[1] === 'string' ? undefined : row[2] });
    offset += size;
  }
  return { id, name, length: offset, points };
}

const COMMON = model(1, 'common', [
  ['Mn', 'string', 16], ['Md', 'string', 16], ['Opt', 'string', 8], ['Vr', 'string', 8], ['SN', 'string', 16], ['DA', 'uint16'], ['Pad', 'pad'],
]);

// Inverters 101 (single phase), 102 (split phase), 103 (three phase): integers with scale factors.
const INVERTER_INT_ROWS: readonly Row[] = [
  ['A', 'uint16', 'A_SF'], ['AphA', 'uint16', 'A_SF'], ['AphB', 'uint16', 'A_SF'], ['AphC', 'uint16', 'A_SF'], ['A_SF', 'sunssf'],
  ['PPVphAB', 'uint16', 'V_SF'], ['PPVphBC', 'uint16', 'V_SF'], ['PPVphCA', 'uint16', 'V_SF'],
  ['PhVphA', 'uint16', 'V_SF'], ['PhVphB', 'uint16', 'V_SF'], ['PhVphC', 'uint16', 'V_SF'], ['V_SF', 'sunssf'],
  ['W', 'int16', 'W_SF'], ['W_SF', 'sunssf'], ['Hz', 'uint16', 'Hz_SF'], ['Hz_SF', 'sunssf'],
  ['VA', 'int16', 'VA_SF'], ['VA_SF', 'sunssf'], ['VAr', 'int16', 'VAr_SF'], ['VAr_SF', 'sunssf'], ['PF', 'int16', 'PF_SF'], ['PF_SF', 'sunssf'],
  ['WH', 'acc32', 'WH_SF'], ['WH_SF', 'sunssf'],
  ['DCA', 'uint16', 'DCA_SF'], ['DCA_SF', 'sunssf'], ['DCV', 'uint16', 'DCV_SF'], ['DCV_SF', 'sunssf'], ['DCW', 'int16', 'DCW_SF'], ['DCW_SF', 'sunssf'],
  ['TmpCab', 'int16', 'Tmp_SF'], ['TmpSnk', 'int16', 'Tmp_SF'], ['TmpTrns', 'int16', 'Tmp_SF'], ['TmpOt', 'int16', 'Tmp_SF'], ['Tmp_SF', 'sunssf'],
  ['St', 'enum16'], ['StVnd', 'enum16'], ['Evt1', 'bitfield32'], ['Evt2', 'bitfield32'],
  ['EvtVnd1', 'bitfield32'], ['EvtVnd2', 'bitfield32'], ['EvtVnd3', 'bitfield32'], ['EvtVnd4', 'bitfield32'],
];

// Inverters 111, 112, 113: the same quantities as float32, no scale factors.
const INVERTER_FLOAT_ROWS: readonly Row[] = [
  ...['A', 'AphA', 'AphB', 'AphC', 'PPVphAB', 'PPVphBC', 'PPVphCA', 'PhVphA', 'PhVphB', 'PhVphC', 'W', 'Hz', 'VA', 'VAr', 'PF', 'WH', 'DCA', 'DCV', 'DCW', 'TmpCab', 'TmpSnk', 'TmpTrns', 'TmpOt']
    .map((name): Row => [name, 'float32']),
  ['St', 'enum16'], ['StVnd', 'enum16'], ['Evt1', 'bitfield32'], ['Evt2', 'bitfield32'],
  ['EvtVnd1', 'bitfield32'], ['EvtVnd2', 'bitfield32'], ['EvtVnd3', 'bitfield32'], ['EvtVnd4', 'bitfield32'],
];

const NAMEPLATE = model(120, 'nameplate', [
  ['DERTyp', 'enum16'], ['WRtg', 'uint16', 'WRtg_SF'], ['WRtg_SF', 'sunssf'], ['VARtg', 'uint16', 'VARtg_SF'], ['VARtg_SF', 'sunssf'],
  ['VArRtgQ1', 'int16', 'VArRtg_SF'], ['VArRtgQ2', 'int16', 'VArRtg_SF'], ['VArRtgQ3', 'int16', 'VArRtg_SF'], ['VArRtgQ4', 'int16', 'VArRtg_SF'], ['VArRtg_SF', 'sunssf'],
  ['ARtg', 'uint16', 'ARtg_SF'], ['ARtg_SF', 'sunssf'],
  ['PFRtgQ1', 'int16', 'PFRtg_SF'], ['PFRtgQ2', 'int16', 'PFRtg_SF'], ['PFRtgQ3', 'int16', 'PFRtg_SF'], ['PFRtgQ4', 'int16', 'PFRtg_SF'], ['PFRtg_SF', 'sunssf'],
  ['WHRtg', 'uint16', 'WHRtg_SF'], ['WHRtg_SF', 'sunssf'], ['AhrRtg', 'uint16', 'AhrRtg_SF'], ['AhrRtg_SF', 'sunssf'],
  ['MaxChaRte', 'uint16', 'MaxChaRte_SF'], ['MaxChaRte_SF', 'sunssf'], ['MaxDisChaRte', 'uint16', 'MaxDisChaRte_SF'], ['MaxDisChaRte_SF', 'sunssf'], ['Pad', 'pad'],
]);

const SETTINGS = model(121, 'settings', [
  ['WMax', 'uint16', 'WMax_SF'], ['VRef', 'uint16', 'VRef_SF'], ['VRefOfs', 'int16', 'VRefOfs_SF'], ['VMax', 'uint16', 'VMinMax_SF'], ['VMin', 'uint16', 'VMinMax_SF'],
  ['VAMax', 'uint16', 'VAMax_SF'], ['VArMaxQ1', 'int16', 'VArMax_SF'], ['VArMaxQ2', 'int16', 'VArMax_SF'], ['VArMaxQ3', 'int16', 'VArMax_SF'], ['VArMaxQ4', 'int16', 'VArMax_SF'],
  ['WGra', 'uint16', 'WGra_SF'], ['PFMinQ1', 'int16', 'PFMin_SF'], ['PFMinQ2', 'int16', 'PFMin_SF'], ['PFMinQ3', 'int16', 'PFMin_SF'], ['PFMinQ4', 'int16', 'PFMin_SF'],
  ['VArAct', 'enum16'], ['ClcTotVA', 'enum16'], ['MaxRmpRte', 'uint16', 'MaxRmpRte_SF'], ['ECPNomHz', 'uint16', 'ECPNomHz_SF'], ['ConnPh', 'enum16'],
  ['WMax_SF', 'sunssf'], ['VRef_SF', 'sunssf'], ['VRefOfs_SF', 'sunssf'], ['VMinMax_SF', 'sunssf'], ['VAMax_SF', 'sunssf'], ['VArMax_SF', 'sunssf'],
  ['WGra_SF', 'sunssf'], ['PFMin_SF', 'sunssf'], ['MaxRmpRte_SF', 'sunssf'], ['ECPNomHz_SF', 'sunssf'],
]);

const CONTROLS = model(123, 'controls', [
  ['Conn_WinTms', 'uint16'], ['Conn_RvrtTms', 'uint16'], ['Conn', 'enum16'],
  ['WMaxLimPct', 'uint16', 'WMaxLimPct_SF'], ['WMaxLimPct_WinTms', 'uint16'], ['WMaxLimPct_RvrtTms', 'uint16'], ['WMaxLimPct_RmpTms', 'uint16'], ['WMaxLim_Ena', 'enum16'],
  ['OutPFSet', 'int16', 'OutPFSet_SF'], ['OutPFSet_WinTms', 'uint16'], ['OutPFSet_RvrtTms', 'uint16'], ['OutPFSet_RmpTms', 'uint16'], ['OutPFSet_Ena', 'enum16'],
  ['VArWMaxPct', 'int16', 'VArPct_SF'], ['VArMaxPct', 'int16', 'VArPct_SF'], ['VArAvalPct', 'int16', 'VArPct_SF'],
  ['VArPct_WinTms', 'uint16'], ['VArPct_RvrtTms', 'uint16'], ['VArPct_RmpTms', 'uint16'], ['VArPct_Mod', 'enum16'], ['VArPct_Ena', 'enum16'],
  ['WMaxLimPct_SF', 'sunssf'], ['OutPFSet_SF', 'sunssf'], ['VArPct_SF', 'sunssf'],
]);

const STORAGE = model(124, 'storage', [
  ['WChaMax', 'uint16', 'WChaMax_SF'], ['WChaGra', 'uint16', 'WChaDisChaGra_SF'], ['WDisChaGra', 'uint16', 'WChaDisChaGra_SF'], ['StorCtl_Mod', 'bitfield16'],
  ['VAChaMax', 'uint16', 'VAChaMax_SF'], ['MinRsvPct', 'uint16', 'MinRsvPct_SF'], ['ChaState', 'uint16', 'ChaState_SF'], ['StorAval', 'uint16', 'StorAval_SF'],
  ['InBatV', 'uint16', 'InBatV_SF'], ['ChaSt', 'enum16'], ['OutWRte', 'int16', 'InOutWRte_SF'], ['InWRte', 'int16', 'InOutWRte_SF'],
  ['InOutWRte_WinTms', 'uint16'], ['InOutWRte_RvrtTms', 'uint16'], ['InOutWRte_RmpTms', 'uint16'], ['ChaGriSet', 'enum16'],
  ['WChaMax_SF', 'sunssf'], ['WChaDisChaGra_SF', 'sunssf'], ['VAChaMax_SF', 'sunssf'], ['MinRsvPct_SF', 'sunssf'], ['ChaState_SF', 'sunssf'],
  ['StorAval_SF', 'sunssf'], ['InBatV_SF', 'sunssf'], ['InOutWRte_SF', 'sunssf'],
]);

// Meters 201 (single phase), 202 (split phase), 203 (three phase wye), 204 (three phase delta): one layout.
const METER_ROWS: readonly Row[] = [
  ['A', 'int16', 'A_SF'], ['AphA', 'int16', 'A_SF'], ['AphB', 'int16', 'A_SF'], ['AphC', 'int16', 'A_SF'], ['A_SF', 'sunssf'],
  ['PhV', 'int16', 'V_SF'], ['PhVphA', 'int16', 'V_SF'], ['PhVphB', 'int16', 'V_SF'], ['PhVphC', 'int16', 'V_SF'],
  ['PPV', 'int16', 'V_SF'], ['PhVphAB', 'int16', 'V_SF'], ['PhVphBC', 'int16', 'V_SF'], ['PhVphCA', 'int16', 'V_SF'], ['V_SF', 'sunssf'],
  ['Hz', 'int16', 'Hz_SF'], ['Hz_SF', 'sunssf'],
  ['W', 'int16', 'W_SF'], ['WphA', 'int16', 'W_SF'], ['WphB', 'int16', 'W_SF'], ['WphC', 'int16', 'W_SF'], ['W_SF', 'sunssf'],
  ['VA', 'int16', 'VA_SF'], ['VAphA', 'int16', 'VA_SF'], ['VAphB', 'int16', 'VA_SF'], ['VAphC', 'int16', 'VA_SF'], ['VA_SF', 'sunssf'],
  ['VAR', 'int16', 'VAR_SF'], ['VARphA', 'int16', 'VAR_SF'], ['VARphB', 'int16', 'VAR_SF'], ['VARphC', 'int16', 'VAR_SF'], ['VAR_SF', 'sunssf'],
  ['PF', 'int16', 'PF_SF'], ['PFphA', 'int16', 'PF_SF'], ['PFphB', 'int16', 'PF_SF'], ['PFphC', 'int16', 'PF_SF'], ['PF_SF', 'sunssf'],
  ...['TotWhExp', 'TotWhExpPhA', 'TotWhExpPhB', 'TotWhExpPhC', 'TotWhImp', 'TotWhImpPhA', 'TotWhImpPhB', 'TotWhImpPhC'].map((n): Row => [n, 'acc32', 'TotWh_SF']),
  ['TotWh_SF', 'sunssf'],
  ...['TotVAhExp', 'TotVAhExpPhA', 'TotVAhExpPhB', 'TotVAhExpPhC', 'TotVAhImp', 'TotVAhImpPhA', 'TotVAhImpPhB', 'TotVAhImpPhC'].map((n): Row => [n, 'acc32', 'TotVAh_SF']),
  ['TotVAh_SF', 'sunssf'],
  ...['TotVArhImpQ1', 'TotVArhImpQ1PhA', 'TotVArhImpQ1PhB', 'TotVArhImpQ1PhC', 'TotVArhImpQ2', 'TotVArhImpQ2PhA', 'TotVArhImpQ2PhB', 'TotVArhImpQ2PhC',
    'TotVArhExpQ3', 'TotVArhExpQ3PhA', 'TotVArhExpQ3PhB', 'TotVArhExpQ3PhC', 'TotVArhExpQ4', 'TotVArhExpQ4PhA', 'TotVArhExpQ4PhB', 'TotVArhExpQ4PhC']
    .map((n): Row => [n, 'acc32', 'TotVArh_SF']),
  ['TotVArh_SF', 'sunssf'], ['Evt', 'bitfield32'],
];

// DER AC controls (IEEE 1547-2018 models): the newer way to limit active power.
const DER_CONTROLS = model(704, 'der-ac-controls', [
  ['PFWInjEna', 'enum16'], ['PFWInjEnaRvrt', 'enum16'], ['PFWInjRvrtTms', 'uint32'], ['PFWInjRvrtRem', 'uint32'],
  ['PFWAbsEna', 'enum16'], ['PFWAbsEnaRvrt', 'enum16'], ['PFWAbsRvrtTms', 'uint32'], ['PFWAbsRvrtRem', 'uint32'],
  ['WMaxLimPctEna', 'enum16'], ['WMaxLimPct', 'uint16', 'WMaxLimPct_SF'], ['WMaxLimPctRvrt', 'uint16', 'WMaxLimPct_SF'], ['WMaxLimPctEnaRvrt', 'enum16'],
  ['WMaxLimPctRvrtTms', 'uint32'], ['WMaxLimPctRvrtRem', 'uint32'],
  ['WSetEna', 'enum16'], ['WSetMod', 'enum16'], ['WSet', 'int32', 'WSet_SF'], ['WSetRvrt', 'int32', 'WSet_SF'], ['WSetPct', 'int16', 'WSetPct_SF'], ['WSetPctRvrt', 'int16', 'WSetPct_SF'],
  ['WSetEnaRvrt', 'enum16'], ['WSetRvrtTms', 'uint32'], ['WSetRvrtRem', 'uint32'],
  ['VarSetEna', 'enum16'], ['VarSetMod', 'enum16'], ['VarSetPri', 'enum16'], ['VarSet', 'int32', 'VarSet_SF'], ['VarSetRvrt', 'int32', 'VarSet_SF'],
  ['VarSetPct', 'int16', 'VarSetPct_SF'], ['VarSetPctRvrt', 'int16', 'VarSetPct_SF'], ['VarSetEnaRvrt', 'enum16'], ['VarSetRvrtTms', 'uint32'], ['VarSetRvrtRem', 'uint32'],
  ['WRmp', 'uint16'], ['WRmpRef', 'enum16'], ['VarRmp', 'uint16'], ['AntiIslEna', 'enum16'],
  ['PF_SF', 'sunssf'], ['WMaxLimPct_SF', 'sunssf'], ['WSet_SF', 'sunssf'], ['WSetPct_SF', 'sunssf'], ['VarSet_SF', 'sunssf'], ['VarSetPct_SF', 'sunssf'],
  ['PFWInj_PF', 'uint16', 'PF_SF'], ['PFWInj_Ext', 'enum16'], ['PFWInjRvrt_PF', 'uint16', 'PF_SF'], ['PFWInjRvrt_Ext', 'enum16'],
  ['PFWAbs_PF', 'uint16', 'PF_SF'], ['PFWAbs_Ext', 'enum16'], ['PFWAbsRvrt_PF', 'uint16', 'PF_SF'], ['PFWAbsRvrt_Ext', 'enum16'],
]);

const BATTERY = model(802, 'battery', [
  ['AHRtg', 'uint16', 'AHRtg_SF'], ['WHRtg', 'uint16', 'WHRtg_SF'], ['WChaRteMax', 'uint16', 'WChaDisChaMax_SF'], ['WDisChaRteMax', 'uint16', 'WChaDisChaMax_SF'],
  ['DisChaRte', 'uint16', 'DisChaRte_SF'], ['SoCMax', 'uint16', 'SoC_SF'], ['SoCMin', 'uint16', 'SoC_SF'], ['SocRsvMax', 'uint16', 'SoC_SF'], ['SoCRsvMin', 'uint16', 'SoC_SF'],
  ['SoC', 'uint16', 'SoC_SF'], ['DoD', 'uint16', 'DoD_SF'], ['SoH', 'uint16', 'SoH_SF'], ['NCyc', 'uint32'], ['ChaSt', 'enum16'], ['LocRemCtl', 'enum16'],
  ['Hb', 'uint16'], ['CtrlHb', 'uint16'], ['AlmRst', 'uint16'], ['Typ', 'enum16'], ['State', 'enum16'], ['StateVnd', 'enum16'], ['WarrDt', 'uint32'],
  ['Evt1', 'bitfield32'], ['Evt2', 'bitfield32'], ['EvtVnd1', 'bitfield32'], ['EvtVnd2', 'bitfield32'],
  ['V', 'uint16', 'V_SF'], ['VMax', 'uint16', 'V_SF'], ['VMin', 'uint16', 'V_SF'], ['CellVMax', 'uint16', 'CellV_SF'], ['CellVMaxStr', 'uint16'], ['CellVMaxMod', 'uint16'],
  ['CellVMin', 'uint16', 'CellV_SF'], ['CellVMinStr', 'uint16'], ['CellVMinMod', 'uint16'], ['CellVAvg', 'uint16', 'CellV_SF'],
  ['A', 'int16', 'A_SF'], ['AChaMax', 'uint16', 'AMax_SF'], ['ADisChaMax', 'uint16', 'AMax_SF'], ['W', 'int16', 'W_SF'], ['ReqInvState', 'enum16'], ['ReqW', 'int16', 'W_SF'],
  ['SetOp', 'enum16'], ['SetInvState', 'enum16'],
  ['AHRtg_SF', 'sunssf'], ['WHRtg_SF', 'sunssf'], ['WChaDisChaMax_SF', 'sunssf'], ['DisChaRte_SF', 'sunssf'], ['SoC_SF', 'sunssf'], ['DoD_SF', 'sunssf'],
  ['SoH_SF', 'sunssf'], ['V_SF', 'sunssf'], ['CellV_SF', 'sunssf'], ['A_SF', 'sunssf'], ['AMax_SF', 'sunssf'], ['W_SF', 'sunssf'],
]);

export const SUNSPEC_MODELS: ReadonlyMap<number, ModelDef> = new Map([
  COMMON,
  model(101, 'inverter-single-phase', INVERTER_INT_ROWS), model(102, 'inverter-split-phase', INVERTER_INT_ROWS), model(103, 'inverter-three-phase', INVERTER_INT_ROWS),
  model(111, 'inverter-single-phase-float', INVERTER_FLOAT_ROWS), model(112, 'inverter-split-phase-float', INVERTER_FLOAT_ROWS), model(113, 'inverter-three-phase-float', INVERTER_FLOAT_ROWS),
  NAMEPLATE, SETTINGS, CONTROLS, STORAGE,
  model(201, 'meter-single-phase', METER_ROWS), model(202, 'meter-split-phase', METER_ROWS), model(203, 'meter-wye', METER_ROWS), model(204, 'meter-delta', METER_ROWS),
  DER_CONTROLS, BATTERY,
].map((m) => [m.id, m]));

/** What Gridshare does with a model: read it as an output, use it to write controls, or know the device by it. */
export type ModelRole = 'inverter' | 'meter' | 'storage' | 'battery' | 'control' | 'rating' | 'identity';

const ROLES: ReadonlyMap<number, ModelRole> = new Map<number, ModelRole>([
  [1, 'identity'], [101, 'inverter'], [102, 'inverter'], [103, 'inverter'], [111, 'inverter'], [112, 'inverter'], [113, 'inverter'],
  [120, 'rating'], [121, 'rating'], [123, 'control'], [704, 'control'], [124, 'storage'], [802, 'battery'],
  [201, 'meter'], [202, 'meter'], [203, 'meter'], [204, 'meter'],
]);

export function modelRole(id: number): ModelRole | undefined {
  return ROLES.get(id);
}

export function modelDef(id: number): ModelDef | undefined {
  return SUNSPEC_MODELS.get(id);
}
