import type { AdminService } from '../admin/admin-service.js';
import type { AgeBand } from '@clubcard/shared';

/**
 * A small demo council: three venues, four services, the living-credit scheme and six
 * residents with cards. Card UIDs are fixed so the demo kiosk can offer them as
 * simulated taps. Nothing here is a real person.
 */
export const DEMO_RESIDENTS: { firstName: string; ageBand: AgeBand; ward: string; uid: string }[] =
  [
    { firstName: 'Asha', ageBand: '13-19', ward: 'riverside', uid: '04A1B2C3D4E501' },
    { firstName: 'Ben', ageBand: '30-44', ward: 'riverside', uid: '04A1B2C3D4E502' },
    { firstName: 'Cerys', ageBand: '65-74', ward: 'castle', uid: '04A1B2C3D4E503' },
    { firstName: 'Dafydd', ageBand: '20-29', ward: 'castle', uid: '04A1B2C3D4E504' },
    { firstName: 'Eleri', ageBand: '45-64', ward: 'northgate', uid: '04A1B2C3D4E505' },
    { firstName: 'Femi', ageBand: '75+', ward: 'northgate', uid: '04A1B2C3D4E506' },
  ];

/** A card the demo knows but the council has blocked (reported lost). */
export const DEMO_BLOCKED_UID = '04A1B2C3D4E5FF';
/** A card nobody issued. */
export const DEMO_UNKNOWN_UID = '04DEADBEEF0001';

export const DEMO_LIVING_CREDIT_SCHEME = {
  id: 'living-credit',
  version: 1,
  name: 'Living credits for active sessions',
  wallet: 'living-credit',
  validFrom: '2020-01-01T00:00:00Z',
  earning: [
    {
      id: 'leisure-visit',
      trigger: { eventType: 'visit', serviceKinds: ['leisure'] },
      amount: { kind: 'fixed', value: 10 },
    },
  ],
};

export interface DemoLoadResult {
  kiosks: { kioskId: string; code: string; venueId: string; serviceId: string }[];
  residents: { residentRef: string; firstName: string; uid: string }[];
}

export function loadDemoData(admin: AdminService): DemoLoadResult {
  admin.addService({ id: 's-swim', name: 'Swimming', kind: 'leisure' });
  admin.addService({ id: 's-gym', name: 'Gym', kind: 'leisure' });
  admin.addService({ id: 's-library', name: 'Library', kind: 'library' });
  admin.addService({ id: 's-gp-drop-in', name: 'GP drop-in', kind: 'gp-drop-in' });
  admin.addVenue({
    id: 'v-riverside-leisure',
    name: 'Riverside Leisure Centre',
    type: 'leisure-centre',
    ward: 'riverside',
    allowUidOnly: true,
    services: ['s-swim', 's-gym'],
  });
  admin.addVenue({
    id: 'v-central-library',
    name: 'Central Library',
    type: 'library',
    ward: 'castle',
    allowUidOnly: true,
    services: ['s-library'],
  });
  admin.addVenue({
    id: 'v-high-street-gp',
    name: 'High Street GP Drop-in',
    type: 'gp-drop-in',
    ward: 'northgate',
    services: ['s-gp-drop-in'],
  });
  admin.publishScheme(DEMO_LIVING_CREDIT_SCHEME);
  const residents = DEMO_RESIDENTS.map((r) => {
    const ref = admin.addResident({ firstName: r.firstName, ageBand: r.ageBand, ward: r.ward });
    admin.issueCard({ residentRef: ref, uid: r.uid, technology: 'simulated' });
    return { residentRef: ref, firstName: r.firstName, uid: r.uid };
  });
  const lost = admin.addResident({ firstName: 'Gwen', ageBand: '30-44', ward: 'castle' });
  admin.issueCard({ residentRef: lost, uid: DEMO_BLOCKED_UID, technology: 'simulated' });
  admin.setCardStatusByUid(DEMO_BLOCKED_UID, 'blocked');
  const kiosks = [
    { id: 'k-riverside-1', venueId: 'v-riverside-leisure', serviceId: 's-swim' },
    { id: 'k-library-1', venueId: 'v-central-library', serviceId: 's-library' },
  ].map((k) => ({ ...admin.addKiosk(k), venueId: k.venueId, serviceId: k.serviceId }));
  return { kiosks, residents };
}
