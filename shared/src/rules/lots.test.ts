import { describe, expect, it } from 'vitest';
import {
  LOT_STRIDE,
  L_AMOUNT,
  L_ID,
  lotIdAt,
  lotsFromJson,
  lotsToJson,
  writeLotId,
  type Lot,
  type LotList,
} from './lots.js';

function lot(id: string, amount = 100): Lot {
  return {
    id,
    wallet: 'leisure-credit',
    schemeId: 'youth-leisure-credit',
    schemeVersion: 2,
    source: 'scheme:youth-leisure-credit',
    amount,
    expiresAt: Date.UTC(2025, 5, 1),
  };
}

describe('lot ids', () => {
  it('keeps an event id and line index as numbers, and gives the same id back', () => {
    const id = '0190f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f:3';
    const list = lotsFromJson([lot(id)]);
    expect(list).toHaveLength(LOT_STRIDE);
    expect(list.filter((v) => typeof v === 'string')).toEqual([
      'leisure-credit',
      'youth-leisure-credit',
      'scheme:youth-leisure-credit',
    ]);
    expect(lotIdAt(list, 0)).toBe(id);
    expect(lotsToJson(list)).toEqual([lot(id)]);
  });

  it('round-trips the extremes of the hex digits and of the line index', () => {
    for (const id of [
      '00000000-0000-7000-8000-000000000000:0',
      'ffffffff-ffff-7fff-bfff-ffffffffffff:999999999',
      '0123abcd-4567-7890-8abc-def012345678:17',
    ]) {
      expect(lotsToJson(lotsFromJson([lot(id)]))[0]?.id).toBe(id);
    }
  });

  it('keeps ids of any other form whole, exactly as given', () => {
    const ids = [
      'e1:0',
      'legacy-lot',
      '0190F3C2-7A1B-7C3D-8E4F-5A6B7C8D9E0F:1', // upper case: not an event id as issued
      '0190f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f:01', // line index not in canonical form
      '0190f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f',
      '0190f3c2x7a1b-7c3d-8e4f-5a6b7c8d9e0f:2',
    ];
    const lots = ids.map((id, i) => lot(id, i + 1));
    const list = lotsFromJson(lots);
    expect(list).toHaveLength(ids.length * LOT_STRIDE);
    expect(lotsToJson(list)).toEqual(lots);
  });

  it('writes a lot id in place without touching the lot around it', () => {
    const list: LotList = lotsFromJson([lot('a:1', 5), lot('b:2', 7)]);
    writeLotId(list, LOT_STRIDE, '0190f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f', 4);
    expect(lotIdAt(list, 0)).toBe('a:1');
    expect(lotIdAt(list, LOT_STRIDE)).toBe('0190f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f:4');
    expect(list[LOT_STRIDE + L_AMOUNT]).toBe(7);
    writeLotId(list, 0, 'not-a-uuid', 9);
    expect(list[L_ID]).toBe('not-a-uuid:9');
    expect(lotIdAt(list, 0)).toBe('not-a-uuid:9');
  });
});
