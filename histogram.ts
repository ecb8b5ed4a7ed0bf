import type { Metric, MetricValueWithName, Registry } from 'prom-client';

export interface HistogramConfig<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** Upper bounds, ascending; `+Inf` is implied. */
  readonly buckets: readonly number[];
  readonly registry: Registry;
}

/** The observations of one label set. */
export interface HistogramSeries {
  observe(value: number): void;
}

/**
 * A Prometheus histogram for the API's hot path, where every request observes two.
 * prom-client's own builds a label key string, checks the labels and looks the
 * bucket up by its bound as a property name at every observation: taking those two
 * observations out saved 9% of the API's instructions per small page and 13% of its
 * instruction-cache misses (bench:instructions, by hand); this one in their place
 * saves 8% and 11%. A label set is found by its values, one map per label, and an
 * observation adds to numbers. prom-client's registry still writes it out at each
 * scrape, from what `get()` returns, as it does its own histograms.
 */
export class FastHistogram<L extends string> {
  /** Label values, one level of maps per label name, down to the series. */
  private readonly byValues = new Map<string, unknown>();
  /** Every series, in the order they were first observed. */
  private readonly series: Series<L>[] = [];

  constructor(private readonly config: HistogramConfig<L>) {
    // The registry takes any object shaped as its metrics are (name, help, get,
    // reset); its type names only its own classes.
    config.registry.registerMetric(this as unknown as Metric);
  }

  get name(): string {
    return this.config.name;
  }

  get help(): string {
    return this.config.help;
  }

  /**
   * The series of these label values, in `labelNames` order. Looked up by the values
   * themselves, level by level, rather than by a key built from them: a string built
   * anew at each request is hashed anew too.
   */
  labels(...values: string[]): HistogramSeries {
    const last = this.config.labelNames.length - 1;
    if (values.length !== last + 1) throw new Error(`${this.config.name} takes ${last + 1} label values, got ${values.length}`);
    let level = this.byValues;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) level.set(values[i]!, (next = new Map()));
      level = next;
    }
    let series = level.get(values[last]!) as Series<L> | undefined;
    if (series === undefined) {
      const labels = Object.fromEntries(this.config.labelNames.map((name, i) => [name, values[i]!])) as Record<L, string>;
      series = new Series(labels, this.config.buckets);
      level.set(values[last]!, series);
      this.series.push(series);
    }
    return series;
  }

  /** Called by the registry at each scrape: prom-client's histogram lines, cumulative, `+Inf`, sum, count. */
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValueWithName<string>[] } {
    const bucketName = `${this.config.name}_bucket`;
    const values: MetricValueWithName<string>[] = [];
    for (const { labels, counts, sum, count } of this.series) {
      let cumulative = 0;
      this.config.buckets.forEach((bound, i) => {
        cumulative += counts[i]!;
        values.push({ metricName: bucketName, labels: { le: bound, ...labels }, value: cumulative });
      });
      values.push(
        { metricName: bucketName, labels: { le: '+Inf', ...labels }, value: count },
        { metricName: `${this.config.name}_sum`, labels, value: sum },
        { metricName: `${this.config.name}_count`, labels, value: count },
      );
    }
    return { name: this.config.name, help: this.config.help, type: 'histogram', aggregator: 'sum', values };
  }

  reset(): void {
    this.byValues.clear();
    this.series.length = 0;
  }
}

class Series<L extends string> implements HistogramSeries {
  /** Observations per bucket, not cumulative; above the last bound only `count` has them. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<L, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const { bounds, counts } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        counts[i]! += 1;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}
