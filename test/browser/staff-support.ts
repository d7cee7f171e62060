import { cardHashOf } from '@clubcard/shared';
import { hashPin } from '@clubcard/terminal/staff/pin-hash';
import type { ScreenKiosk } from './screen-harness.js';

export const STAFF_UID = '04CAFE00000001';
export const STAFF_PIN = '2468';

/** A staff member as a pull page would bring them (backend → kiosk), for this kiosk's venues. */
export function seedStaff(k: ScreenKiosk): void {
  const id = k.kiosk.store.identity();
  if (!id) throw new Error('kiosk not provisioned');
  k.staffStore.applyStaff(
    [
      {
        staffRef: 'st-alex',
        firstName: 'Alex',
        pinHash: hashPin(STAFF_PIN, 10_000),
        venues: ['*'],
        status: 'active',
        cards: [{ cardHash: cardHashOf(id.cardHashKey, STAFF_UID), status: 'active' }],
      },
    ],
    Date.now(),
  );
}
