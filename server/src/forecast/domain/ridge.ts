import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/**
 * Ridge regression (ml-matrix for the algebra): minimises ‖y − b − Xβ‖² + λ·n·‖β‖² with an
 * unpenalised intercept b. Features are scaled to unit root-mean-square but not centred, so the
 * zeros of one-hot calendar columns stay zeros and ml-matrix's Gram product skips them.
 * Columns that are all zero get a zero weight.
 */
export interface RidgeFit {
  readonly intercept: number;
  /** Weights of the scaled features. */
  readonly weights: Float64Array;
  readonly scales: Float64Array;
  /** Weight per unscaled feature unit (weight ÷ scale; 0 for all-zero columns). */
  readonly slopes: Float64Array;
}

export function fitRidge(rows: readonly Float64Array[], y: readonly number[], lambda: number): RidgeFit | undefined {
  const n = rows.length;
  const p = rows[0]?.length ?? 0;
  if (n < p + 2) return undefined;
  const scales = new Float64Array(p);
  for (const row of rows) for (let j = 0; j < p; j++) scales[j]! += row[j]! * row[j]!;
  for (let j = 0; j < p; j++) scales[j] = scales[j]! > 0 ? Math.sqrt(scales[j]! / n) : 0;
  // Column 0 is the intercept.
  const X = new Matrix(rows.map((row) => {
    const z = new Array<number>(p + 1);
    z[0] = 1;
    for (let j = 0; j < p; j++) z[j + 1] = scales[j]! > 0 ? row[j]! / scales[j]! : 0;
    return z;
  }));
  const gram = X.gram();
  for (let j = 1; j <= p; j++) gram.set(j, j, gram.get(j, j) + lambda * n + (scales[j - 1]! > 0 ? 0 : 1));
  const cholesky = new CholeskyDecomposition(gram);
  if (!cholesky.isPositiveDefinite()) return undefined;
  const beta = cholesky.solve(X.transposeMultiply(Matrix.columnVector(y as number[])));
  const weights = new Float64Array(p);
  const slopes = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    weights[j] = scales[j]! > 0 ? beta.get(j + 1, 0) : 0;
    slopes[j] = scales[j]! > 0 ? weights[j]! / scales[j]! : 0;
  }
  return { intercept: beta.get(0, 0), weights, scales, slopes };
}

export function predictRidge(fit: RidgeFit, row: Float64Array): number {
  let v = fit.intercept;
  for (let j = 0; j < row.length; j++) v += fit.slopes[j]! * row[j]!;
  return v;
}
