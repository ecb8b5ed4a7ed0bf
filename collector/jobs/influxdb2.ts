import { InfluxV2Store } from '../../storage/influx-v2.js';
import { runJob } from '../job.js';

// No read cache: a run only writes.
void runJob<'influxdb2'>({ open: (config) => new InfluxV2Store(config) });
