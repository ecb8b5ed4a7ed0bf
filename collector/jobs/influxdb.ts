import { InfluxStore } from '../../storage/influx.js';
import { runJob } from '../job.js';

// No read cache: a run only writes.
void runJob<'influxdb'>({ open: (config) => new InfluxStore(config) });
