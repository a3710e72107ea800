import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/**
 * Ridge regression on standardised features (ml-matrix for the algebra): minimises
 * ‖y − Xβ‖² + λ·n·‖β‖² with an unpenalised intercept. Constant columns get a zero weight.
 */
export interface RidgeFit {
  readonly intercept: number;
  readonly weights: Float64Array;
  readonly means: Float64Array;
  readonly scales: Float64Array;
}

export function fitRidge(rows: readonly Float64Array[], y: readonly number[], lambda: number): RidgeFit | undefined {
  const n = rows.length;
  const p = rows[0]?.length ?? 0;
  if (n < p + 2) return undefined;
  const means = new Float64Array(p);
  const scales = new Float64Array(p);
  for (const row of rows) for (let j = 0; j < p; j++) means[j]! += row[j]! / n;
  for (const row of rows) for (let j = 0; j < p; j++) scales[j]! += (row[j]! - means[j]!) ** 2 / n;
  for (let j = 0; j < p; j++) scales[j] = Math.sqrt(scales[j]!) > 1e-9 ? Math.sqrt(scales[j]!) : 0;
  let yMean = 0;
  for (const v of y) yMean += v / n;
  const X = new Matrix(n, p);
  rows.forEach((row, i) => {
    for (let j = 0; j < p; j++) X.set(i, j, scales[j]! > 0 ? (row[j]! - means[j]!) / scales[j]! : 0);
  });
  const Y = Matrix.columnVector(y.map((v) => v - yMean));
  const Xt = X.transpose();
  const gram = Xt.mmul(X);
  for (let j = 0; j < p; j++) gram.set(j, j, gram.get(j, j) + lambda * n);
  const cholesky = new CholeskyDecomposition(gram);
  if (!cholesky.isPositiveDefinite()) return undefined;
  const beta = cholesky.solve(Xt.mmul(Y));
  const weights = new Float64Array(p);
  for (let j = 0; j < p; j++) weights[j] = scales[j]! > 0 ? beta.get(j, 0) : 0;
  return { intercept: yMean, weights, means, scales };
}

export function predictRidge(fit: RidgeFit, row: Float64Array): number {
  let v = fit.intercept;
  for (let j = 0; j < row.length; j++) if (fit.scales[j]! > 0) v += (fit.weights[j]! * (row[j]! - fit.means[j]!)) / fit.scales[j]!;
  return v;
}
