import { describe, expect, it } from 'vitest';
import { median } from '../../bench/lib/stats.js';

/** The benches' median (bench/lib/stats.ts): the figure every telemetry CPU result reports. */
describe('bench median', () => {
  it('of an odd count is the middle value, whatever the order', () => {
    expect(median([9, 1, 5])).toBe(5);
  });

  it('of an even count is the mean of the two middle values, not the upper one', () => {
    expect(median([3.4, 19.4, 5.6, 8.4, 3.9, 13.4])).toBe(7);
  });

  it('leaves its input unsorted and is NaN for no values', () => {
    const xs = [3, 1, 2, 0];
    expect(median(xs)).toBe(1.5);
    expect(xs).toEqual([3, 1, 2, 0]);
    expect(median([])).toBeNaN();
  });
});
