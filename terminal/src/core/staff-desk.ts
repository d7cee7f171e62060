import {
  AgeBandSchema,
  AppError,
  CardHashSchema,
  ResidentRefSchema,
  StaffRefSchema,
  newEventId,
  type AuthMethod,
  type CardAuth,
  type CardReplacementEvent,
  type CardTechnology,
  type ConsentEvent,
  type ConsentPurpose,
  type EnrolmentEvent,
  type ErrorCode,
  type MemoryEngineState,
  type StaffRef,
} from '@clubcard/shared';
import type { ResidentSummary, StaffConsentRequest } from '../bridge/kiosk-bridge.js';
import type { DeskResult, StaffDeskPort } from '../server/kiosk-services.js';
import type { DeskStore } from '../store/desk-store.js';
import type { KioskIdentity, KioskStore } from '../store/kiosk-store.js';
import { recordVisit } from './tap-pipeline.js';

/** The kind of card a tap shows it to be, as the council records an issued card. */
const TECHNOLOGY_OF: Record<Exclude<AuthMethod, 'staff-manual'>, CardTechnology> = {
  sun: 'ntag424',
  ev2: 'desfire',
  'uid-only': 'ntag21x',
  'hid-fob': 'hid-fob',
  simulated: 'simulated',
};

/** A new pseudonymous resident ref, made at the kiosk: r- and a UUIDv7 in hex. */
export function newKioskResidentRef(): string {
  return `r-${newEventId().replaceAll('-', '')}`;
}

export interface KioskStaffDeskDeps {
  store: KioskStore;
  desk: DeskStore;
  /** The kiosk's provisional engine state (a visit by hand earns as a tap does). */
  engine: MemoryEngineState;
  /** Attended and holding issuing keys: may enrol residents and replace cards. */
  enrolmentDesk: boolean;
  now?: () => number;
}

const refused = (code: ErrorCode): DeskResult => ({ ok: false, code });

/** Consent purposes the desk's form asks about, and the request field of each. */
const DESK_PURPOSES: readonly [ConsentPurpose, 'analytics' | 'healthVisits' | 'contact'][] = [
  ['analytics', 'analytics'],
  ['segmentation-health', 'healthVisits'],
  ['contact', 'contact'],
];

/**
 * The staff desk on the kiosk core: every action is an event in the outbox, committed
 * before staff see the answer, so it works offline and reaches the backend with the next
 * push. Looking a resident up searches what this kiosk holds (pulled cards); the screen
 * says when the kiosk is offline. Enrolment and card replacement only at an enrolment
 * desk: the new card is bound (and the old one blocked) here at once, in the event's
 * transaction, and at the backend when the event arrives.
 */
export class KioskStaffDesk implements StaffDeskPort {
  readonly #d: Required<KioskStaffDeskDeps>;

  constructor(deps: KioskStaffDeskDeps) {
    this.#d = { now: Date.now, ...deps };
  }

  lookup(query: string): Promise<ResidentSummary[]> {
    return Promise.resolve(this.#d.desk.findResidents(query, 20));
  }

  recordVisitByHand(req: { residentRef: string; staffRef: string }): Promise<DeskResult> {
    return this.#run(() => {
      const { id, staffRef } = this.#context(req.staffRef);
      const resident = this.#d.desk.residentOf(req.residentRef);
      if (!resident) return refused('not-found');
      const cardHash = this.#d.desk.activeCardsOf(resident.residentRef)[0];
      if (!cardHash) return refused('card-blocked');
      const venue = this.#d.store.getVenue(id.venueId);
      const service = this.#d.store.getService(id.serviceId);
      if (!venue || !service) return refused('unknown-venue');
      recordVisit(this.#d, {
        kioskId: id.kioskId,
        venue,
        service,
        card: { cardHash, residentRef: resident.residentRef, ageBand: resident.ageBand },
        auth: { method: 'staff-manual', keyVersion: null, counter: null, staffRef },
        assisted: true,
      });
      return { ok: true, firstName: resident.firstName };
    });
  }

  recordConsent(req: StaffConsentRequest & { staffRef: string }): Promise<DeskResult> {
    return this.#run(() => {
      const { id, staffRef } = this.#context(req.staffRef);
      const resident = this.#d.desk.residentOf(req.residentRef);
      if (!resident) return refused('not-found');
      const occurredAt = this.#occurredAt();
      // One statement per purpose, both in one transaction; the attributes travel once.
      this.#d.store.db.transaction(() => {
        DESK_PURPOSES.forEach(([purpose, field], i) => {
          this.#d.store.appendEvent((seq) => ({
            event: {
              ...this.#base(id, seq, occurredAt),
              type: 'consent',
              residentRef: resident.residentRef as ConsentEvent['residentRef'],
              purpose,
              given: req[field],
              attributes: i === 0 ? [...new Set(req.attributes)] : null,
              assistedBy: staffRef,
            } satisfies ConsentEvent,
            lines: [],
          }));
        });
      })();
      return { ok: true, firstName: resident.firstName };
    });
  }

  enrol(req: Parameters<StaffDeskPort['enrol']>[0]): Promise<DeskResult> {
    return this.#run(() => {
      if (!this.#d.enrolmentDesk) return refused('forbidden');
      const { id, staffRef } = this.#context(req.staffRef);
      const ageBand = AgeBandSchema.safeParse(req.ageBand);
      const cardHash = CardHashSchema.safeParse(req.cardHash);
      const technology = technologyOf(req.auth);
      if (!ageBand.success || !cardHash.success || !technology) return refused('bad-request');
      const firstName = req.firstName?.trim() || null;
      if (firstName !== null && firstName.length > 40) return refused('bad-request');
      const residentRef = ResidentRefSchema.parse(newKioskResidentRef());
      const occurredAt = this.#occurredAt();
      this.#d.store.appendEvent((seq) => {
        this.#d.desk.addCard(
          { cardHash: cardHash.data, residentRef, firstName, ageBand: ageBand.data, technology },
          this.#d.now(),
        );
        const event: EnrolmentEvent = {
          ...this.#base(id, seq, occurredAt),
          type: 'enrolment',
          residentRef,
          firstName,
          ageBand: ageBand.data,
          cardHash: cardHash.data,
          technology,
          keyVersion: req.auth.keyVersion,
          counter: req.auth.counter,
          staffRef,
        };
        return { event, lines: [] };
      });
      return { ok: true, firstName };
    });
  }

  replaceCard(req: Parameters<StaffDeskPort['replaceCard']>[0]): Promise<DeskResult> {
    return this.#run(() => {
      if (!this.#d.enrolmentDesk) return refused('forbidden');
      const { id, staffRef } = this.#context(req.staffRef);
      const cardHash = CardHashSchema.safeParse(req.cardHash);
      const technology = technologyOf(req.auth);
      if (!cardHash.success || !technology) return refused('bad-request');
      const resident = this.#d.desk.residentOf(req.residentRef);
      if (!resident) return refused('not-found');
      const occurredAt = this.#occurredAt();
      this.#d.store.appendEvent((seq) => {
        const now = this.#d.now();
        const replaced = this.#d.desk.activeCardsOf(resident.residentRef);
        this.#d.desk.addCard(
          {
            cardHash: cardHash.data,
            residentRef: resident.residentRef,
            firstName: resident.firstName,
            ageBand: resident.ageBand,
            technology,
          },
          now,
        );
        this.#d.desk.blockCards(replaced, now);
        const event: CardReplacementEvent = {
          ...this.#base(id, seq, occurredAt),
          type: 'card-replacement',
          residentRef: resident.residentRef as CardReplacementEvent['residentRef'],
          cardHash: cardHash.data,
          technology,
          keyVersion: req.auth.keyVersion,
          counter: req.auth.counter,
          replacedCardHashes: replaced as CardReplacementEvent['replacedCardHashes'],
          staffRef,
        };
        return { event, lines: [] };
      });
      return { ok: true, firstName: resident.firstName };
    });
  }

  /** The kiosk's identity and the acting staff member, or a refusal (thrown). */
  #context(staffRef: string): { id: KioskIdentity; staffRef: StaffRef } {
    const id = this.#d.store.identity();
    if (!id) throw new AppError('unknown-kiosk', 'kiosk is not provisioned');
    const ref = StaffRefSchema.safeParse(staffRef);
    if (!ref.success) throw new AppError('unauthenticated', 'not a staff member');
    return { id, staffRef: ref.data };
  }

  #occurredAt(): string {
    return new Date(this.#d.now()).toISOString();
  }

  #base(id: KioskIdentity, seq: number, occurredAt: string) {
    return {
      id: newEventId(),
      kioskId: id.kioskId as EnrolmentEvent['kioskId'],
      seq,
      occurredAt,
      venueId: id.venueId as EnrolmentEvent['venueId'],
    };
  }

  /** Runs one desk action; a storage or refusal error becomes its code, nothing half-done. */
  #run(action: () => DeskResult): Promise<DeskResult> {
    try {
      return Promise.resolve(action());
    } catch (e) {
      return Promise.resolve(refused(e instanceof AppError ? e.code : 'storage-error'));
    }
  }
}

function technologyOf(auth: CardAuth): CardTechnology | null {
  return auth.method === 'staff-manual' ? null : TECHNOLOGY_OF[auth.method];
}
