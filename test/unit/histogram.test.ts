// src/metrics/histogram.ts builds hdr-histogram-js's float histogram directly and loads its encoding lazily (start-up
// cost): these pin that the result is what the package's own build() and encoding give, byte for byte.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { HISTOGRAM_SETTINGS, LatencyStat } from '../../src/metrics/histogram.js';

const valuesMs = [0.3, 1, 2.5, 17, 17, 250, 1_000, 65_000, 4_000_000];

function packageHistogram(): hdr.Histogram {
  const h = hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: HISTOGRAM_SETTINGS.lowestDiscernibleValue,
    highestTrackableValue: HISTOGRAM_SETTINGS.highestTrackableValue,
    numberOfSignificantValueDigits: HISTOGRAM_SETTINGS.numberOfSignificantValueDigits,
    useWebAssembly: false,
  });
  for (const v of valuesMs) h.recordValue(Math.round(v * 1000));
  return h;
}

describe('LatencyStat histogram', () => {
  it('encodes to the same bytes as hdr-histogram-js’s build() and encoder (values past the highest trackable included)', () => {
    const s = new LatencyStat();
    for (const v of valuesMs) s.record(v);
    expect(s.encode()).toBe(hdr.encodeIntoCompressedBase64(packageHistogram()));
  });

  it('decodes what it encoded: merged percentiles equal the originals', () => {
    const s = new LatencyStat();
    for (const v of valuesMs) s.record(v);
    const back = LatencyStat.decode(s.encode(), s);
    for (const p of [50, 90, 99, 99.9]) expect(back.percentile(p)).toBe(s.percentile(p));
    const h = packageHistogram();
    expect(back.percentile(50)).toBe(Math.min(Math.max(h.getValueAtPercentile(50) / 1000, 0.3), 4_000_000));
  });
});
