import { describe, expect, it } from 'vitest';
import { parseAdvertisement, parseReportStatus } from '../../src/store/send-pack.ts';

const pkt = (s: string | Buffer) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return Buffer.concat([Buffer.from((b.length + 4).toString(16).padStart(4, '0')), b]);
};
const flush = Buffer.from('0000');
const A = 'a'.repeat(40);

describe('receive-pack messages', () => {
  it('reads refs and capabilities; an empty repository advertises none', () => {
    const ad = Buffer.concat([pkt('# service=git-receive-pack\n'), flush,
      pkt(`${A} refs/heads/main\0report-status side-band-64k ofs-delta agent=git/2.47\n`), pkt(`${'b'.repeat(40)} refs/heads/x\n`), flush]);
    const { refs, capabilities } = parseAdvertisement(ad);
    expect([...refs]).toEqual([['refs/heads/main', A], ['refs/heads/x', 'b'.repeat(40)]]);
    expect(capabilities.has('side-band-64k')).toBe(true);
    const empty = parseAdvertisement(Buffer.concat([pkt('# service=git-receive-pack\n'), flush, pkt(`${'0'.repeat(40)} capabilities^{}\0report-status\n`), flush]));
    expect(empty.refs.size).toBe(0);
    expect([...empty.capabilities]).toEqual(['report-status']);
  });

  it('reads report-status plain and through side band 1, skipping progress; band 3 is an error', () => {
    const report = Buffer.concat([pkt('unpack ok\n'), pkt('ng refs/heads/main fetch first\n'), flush]);
    expect(parseReportStatus(report, false)).toEqual({ unpack: 'ok', refs: new Map([['refs/heads/main', 'fetch first']]) });
    const banded = Buffer.concat([pkt(Buffer.concat([Buffer.from([2]), Buffer.from('Resolving deltas\r')])),
      pkt(Buffer.concat([Buffer.from([1]), report.subarray(0, 7)])), pkt(Buffer.concat([Buffer.from([1]), report.subarray(7)])), flush]);
    expect(parseReportStatus(banded, true)).toEqual({ unpack: 'ok', refs: new Map([['refs/heads/main', 'fetch first']]) });
    const failed = Buffer.concat([pkt(Buffer.concat([Buffer.from([3]), Buffer.from('disk full\n')])), flush]);
    expect(() => parseReportStatus(failed, true)).toThrow('the server failed: disk full');
  });
});
