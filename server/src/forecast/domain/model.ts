import type { ForecastCalendar } from './calendar.js';
import type { Series } from './series.js';
import type { ForecastTask } from './tasks.js';
import type { WeatherSeries } from './weather.js';

/** What a series measures: consumption, PV production, or a heat pump's electric power. */
export type SeriesKind = 'load' | 'pv' | 'heat';
export const SERIES_KINDS: readonly SeriesKind[] = ['load', 'pv', 'heat'];

export interface Location {
  readonly latitude: number;
  readonly longitude: number;
}

/** A PV system; what is not known is calibrated from the site's own production. */
export interface PvSystem {
  readonly kwp?: number | undefined;
  readonly tiltDeg?: number | undefined;
  /** Compass azimuth of the panels' normal: 90 east, 180 south, 270 west. */
  readonly azimuthDeg?: number | undefined;
}

/** A heat pump: its flow temperature follows a heating curve unless fixed. */
export interface HeatPumpSpec {
  /** Fixed flow temperature, °C (e.g. 35 for underfloor heating). */
  readonly flowTemperatureC?: number | undefined;
  /** Heating curve: flow temperature at the design outdoor temperature, and at 20 °C outdoors. */
  readonly designFlowC?: number | undefined;
  readonly designOutdoorC?: number | undefined;
}

export type StandardProfileName = 'H25' | 'P25' | 'S25' | 'G25';

export interface SiteContext {
  readonly kind: SeriesKind;
  readonly location?: Location | undefined;
  readonly pv?: PvSystem | undefined;
  /** Annual consumption in kWh, for the standard profile of a site without history. */
  readonly annualConsumptionKwh?: number | undefined;
  readonly profile?: StandardProfileName | undefined;
  readonly heatPump?: HeatPumpSpec | undefined;
}

/** Everything a model may read. The series may extend past an issue time: models read it through `knownBefore`. */
export interface ModelInput {
  readonly series: Series;
  readonly site: SiteContext;
  readonly calendar: ForecastCalendar;
  readonly weather?: WeatherSeries | undefined;
}

export interface FitInput extends ModelInput {
  /** Only data of intervals that ended by this instant may shape the fit. */
  readonly fitAtMs: number;
  /** Past tasks shaped like the ones the model will be asked (same horizon), all with targets before `fitAtMs`. */
  readonly trainingTasks: readonly ForecastTask[];
}

export type ParameterValue = number | string | boolean | null;

export interface FittedModel {
  readonly model: string;
  /** What was learned, as plain data (to store, show or reuse). */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /** Mean power in W per step of the task; NaN where the model has nothing to go on. */
  predict(task: ForecastTask): Float64Array;
  /** Heat models: the heat output (W thermal) behind the electric forecast. */
  readonly predictThermal?: ((task: ForecastTask) => Float64Array) | undefined;
}

export interface ModelNeeds {
  /** Days of known history below which the model cannot forecast (0: none needed). */
  readonly minHistoryDays: number;
  readonly location: boolean;
  readonly weather: 'none' | 'optional' | 'required';
  /** In words, for `--help` and the README. */
  readonly text: string;
}

export interface ModelAdapter {
  readonly name: string;
  readonly summary: string;
  readonly kinds: readonly SeriesKind[];
  readonly needs: ModelNeeds;
  /** False for variants `auto` does not try unless asked (they rarely win and cost time). */
  readonly inAuto?: boolean | undefined;
  /** How often a walk-forward refits it; undefined when fitting is cheap enough for every issue. */
  readonly refitEveryMs?: number | undefined;
  /** Why the model cannot forecast this site from data before `atMs`; undefined when it can. */
  unusable(input: ModelInput, atMs: number): string | undefined;
  fit(input: FitInput): FittedModel;
}
