import { stopSharedInflux } from './helpers/influx-fixture.js';

/** Mocha global fixture: the shared influxd goes away with the run. */
export async function mochaGlobalTeardown(): Promise<void> {
  await stopSharedInflux();
}
