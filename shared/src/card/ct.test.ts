import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from './ct.js';

describe('constantTimeEqual', () => {
  it('is true only for identical bytes', () => {
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 4]))).toBe(false);
  });

  it('returns false for different lengths instead of throwing', () => {
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), Buffer.from([1, 2]))).toBe(false);
    expect(constantTimeEqual(Buffer.alloc(0), Buffer.alloc(0))).toBe(true);
  });
});
