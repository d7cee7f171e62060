import {
  PullPageSchema,
  cardHashOf,
  type CardAuth,
  type PullPage,
  type SchemeDefinition,
} from '@clubcard/shared';
import type { TapRead } from '@clubcard/hardware';
import { DeskStore } from '../store/desk-store.js';
import { KioskStore } from '../store/kiosk-store.js';

/**
 * A provisioned kiosk store (in memory unless given) with what a pull would bring (tests only): a swim
 * kiosk at a leisure centre, two residents with cards, and the given schemes.
 */
export const TEST_CARD_KEY = '11'.repeat(32);
export const ASHA = { residentRef: 'r-asha0000001', uid: '04A1B2C3D4E501', firstName: 'Asha' };
export const BEN = { residentRef: 'r-ben00000001', uid: '04A1B2C3D4E502', firstName: 'Ben' };
export const SIMULATED: CardAuth = { method: 'simulated', keyVersion: null, counter: null };
/** A blank NTAG 424 DNA as the PC/SC reader reports it: a secure card with no SUN message. */
export const BLANK_NTAG424: TapRead = {
  readerName: 'PC/SC reader',
  technology: 'ntag424',
  identifier: '04AA11BB22CC44',
  proof: { kind: 'none' },
  detectedAt: 0,
  apduMs: 0,
};

/** Living credits: 10 for a visit to a leisure service (the kiosk here is a swim kiosk). */
export const EARN_ON_SWIM = {
  id: 'living-credit',
  version: 1,
  name: 'Living credits',
  wallet: 'living-credit',
  validFrom: '2020-01-01T00:00:00Z',
  earning: [
    {
      id: 'swim',
      trigger: { eventType: 'visit', serviceKinds: ['leisure'] },
      amount: { kind: 'fixed', value: 10 },
    },
  ],
};

export const hashOf = (uid: string): string => cardHashOf(TEST_CARD_KEY, uid);

export function testKiosk(
  schemes: unknown[] = [],
  balances: PullPage['balances'] = [],
  store: KioskStore = new KioskStore(':memory:'),
): { store: KioskStore; desk: DeskStore } {
  store.setIdentity({
    kioskId: 'k-pool-1',
    venueId: 'v-pool',
    serviceId: 's-swim',
    privateKey: '',
    backendPublicKey: '',
    cardHashKey: TEST_CARD_KEY,
  });
  const page = PullPageSchema.parse({
    protocol: 1,
    kioskId: 'k-pool-1',
    cursor: 0,
    nextCursor: 1,
    hasMore: false,
    serverTime: Date.now(),
    cards: [ASHA, BEN].map((r, i) => ({
      cardHash: hashOf(r.uid),
      residentRef: r.residentRef,
      status: 'active',
      firstName: r.firstName,
      ageBand: i === 0 ? '13-19' : '30-44',
      technology: 'simulated',
    })),
    balances,
    schemes: schemes as SchemeDefinition[],
    services: [{ id: 's-swim', name: 'Swimming', kind: 'leisure' }],
    venues: [
      {
        id: 'v-pool',
        name: 'Town Pool',
        allowUidOnly: true,
        services: ['s-swim'],
        type: 'leisure-centre',
        ward: 'central',
      },
    ],
  });
  store.applyPullPage(page, 0);
  return { store, desk: new DeskStore(store) };
}
