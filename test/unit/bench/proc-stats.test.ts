import { expect } from 'chai';
import { cpuTimes, minorPageFaults } from '../../../bench/proc-stats.js';

// The collector benchmark reads these from /proc for another process; here they are
// read for this one and checked against what the kernel reports to the process itself
// (getrusage), so a wrong field of the stat line shows.
describe('bench proc-stats: a process stat line read from /proc', () => {
  it('counts the minor page faults of memory touched for the first time', () => {
    const before = { proc: minorPageFaults(process.pid), self: process.resourceUsage().minorPageFault };
    // 16,384 pages of 4 KiB; 32 faults where the kernel backs them with huge pages.
    const touched = Buffer.allocUnsafeSlow(64 * 1024 * 1024).fill(1);
    const after = { proc: minorPageFaults(process.pid), self: process.resourceUsage().minorPageFault };

    expect(touched.length).to.equal(64 * 1024 * 1024);
    const self = after.self - before.self;
    expect(self, 'faults counted by getrusage').to.be.at.least(32);
    expect(Math.abs(after.proc - before.proc - self), 'faults counted by /proc, against getrusage').to.be.at.most(10 + self / 10);
  });

  it('splits CPU time into user and kernel time, as getrusage does', () => {
    const before = { proc: cpuTimes(process.pid), self: process.cpuUsage() };
    for (const started = Date.now(); Date.now() - started < 300; ); // user time
    const after = { proc: cpuTimes(process.pid), self: process.cpuUsage(before.self) };

    const userMs = after.proc.userMs - before.proc.userMs;
    expect(userMs, 'user time counted by /proc').to.be.above(0);
    // /proc counts in ticks of 10 ms; getrusage in microseconds.
    expect(Math.abs(userMs - after.self.user / 1_000)).to.be.below(40);
    expect(Math.abs(after.proc.systemMs - before.proc.systemMs - after.self.system / 1_000)).to.be.below(40);
  });

  it('says so when the process is gone', () => {
    const gone = 2 ** 22 + 1; // above the kernel's largest pid
    expect(() => minorPageFaults(gone)).to.throw(`process ${gone} is gone`);
    expect(() => cpuTimes(gone)).to.throw(`process ${gone} is gone`);
  });
});
