import { randomBytes } from 'node:crypto';
import {
  AgeBandSchema,
  AppError,
  KioskIdSchema,
  SchemeDefinitionSchema,
  ServiceIdSchema,
  ServiceKindSchema,
  VenueIdSchema,
  cardHashOf,
  type CardHash,
  type ResidentRef,
  type SchemeDefinition,
} from '@clubcard/shared';
import { z } from 'zod';
import { hashProvisioningCode, newProvisioningCode, type BackendSecrets } from '../keys.js';
import type { BackendStore, CardStatus } from '../store/repository.js';
import { isEnrolmentDesk, setEnrolmentDesk } from '../sync/ingest.js';

/** Admin operations shared by the CLI and the admin API: each validates its input. */
export const NewServiceSchema = z.object({
  id: ServiceIdSchema,
  name: z.string().min(1).max(120),
  kind: ServiceKindSchema,
});

export const NewVenueSchema = z.object({
  id: VenueIdSchema,
  name: z.string().min(1).max(120),
  type: z.enum([
    'library',
    'leisure-centre',
    'gp-drop-in',
    'community-centre',
    'college',
    'outlet',
  ]),
  ward: z.string().regex(/^[a-z0-9-]{1,60}$/),
  allowUidOnly: z.boolean().default(false),
  services: z.array(ServiceIdSchema).min(1),
});

export const NewResidentSchema = z.object({
  firstName: z.string().min(1).max(40).nullable(),
  ageBand: AgeBandSchema,
  ward: z.string().regex(/^[a-z0-9-]{1,60}$/),
});

export const NewKioskSchema = z.object({
  id: KioskIdSchema,
  venueId: VenueIdSchema,
  serviceId: ServiceIdSchema,
  codeValidDays: z.number().int().min(1).max(90).default(7),
  /** An attended enrolment desk: its enrolment and card-replacement events are accepted. */
  enrolmentDesk: z.boolean().default(false),
});

/** Making a kiosk an enrolment desk, or no longer one. */
export const EnrolmentDeskSchema = z.object({ enrolmentDesk: z.boolean() }).strict();

export const IssueCardSchema = z.object({
  residentRef: z.string(),
  uid: z.string().regex(/^([0-9A-Fa-f]{2}){4,10}$/, 'UID must be 4 to 10 bytes of hex'),
  technology: z.enum(['ntag424', 'desfire', 'ntag21x', 'hid-fob', 'simulated']),
  keyVersion: z.number().int().min(0).max(255).nullable().default(null),
});

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A random pseudonymous resident reference (not derived from anything personal). */
export function newResidentRef(): ResidentRef {
  const b = randomBytes(10);
  let s = '';
  for (const x of b) s += BASE32[x & 31];
  return `r-${s}` as ResidentRef;
}

export class AdminService {
  constructor(
    private readonly store: BackendStore,
    private readonly secrets: BackendSecrets,
    private readonly now: () => number = Date.now,
  ) {}

  addService(input: z.input<typeof NewServiceSchema>): void {
    const s = NewServiceSchema.parse(input);
    this.store.transaction(() => {
      this.store.upsertService(s);
      this.store.addChange('service', s.id, this.now());
    });
  }

  addVenue(input: z.input<typeof NewVenueSchema>): void {
    const v = NewVenueSchema.parse(input);
    this.store.transaction(() => {
      for (const s of v.services) {
        if (!this.store.getService(s))
          throw new AppError('unknown-service', `unknown service ${s}`);
      }
      this.store.upsertVenue(v);
      this.store.addChange('venue', v.id, this.now());
    });
  }

  addResident(input: z.input<typeof NewResidentSchema>): ResidentRef {
    const r = NewResidentSchema.parse(input);
    const ref = newResidentRef();
    this.store.addResident({ ref, ...r, createdAt: this.now() });
    return ref;
  }

  issueCard(input: z.input<typeof IssueCardSchema>): CardHash {
    const c = IssueCardSchema.parse(input);
    const hash = cardHashOf(this.secrets.cardHashKey, c.uid.toUpperCase());
    this.store.transaction(() => {
      if (!this.store.getResident(c.residentRef))
        throw new AppError('not-found', 'unknown resident');
      if (this.store.getCard(hash)) throw new AppError('bad-request', 'card already issued');
      this.store.addCard(
        {
          cardHash: hash,
          residentRef: c.residentRef as ResidentRef,
          status: 'active',
          technology: c.technology,
          keyVersion: c.keyVersion,
        },
        this.now(),
      );
      this.store.addChange('card', hash, this.now());
    });
    return hash;
  }

  setCardStatusByUid(uid: string, status: CardStatus): CardHash {
    const hash = cardHashOf(this.secrets.cardHashKey, uid.toUpperCase());
    this.store.transaction(() => {
      if (!this.store.setCardStatus(hash, status, this.now())) {
        throw new AppError('not-found', 'no such card');
      }
      this.store.addChange('card', hash, this.now());
    });
    return hash;
  }

  /** Creates a kiosk and returns its one-time provisioning code (shown once). */
  addKiosk(input: z.input<typeof NewKioskSchema>): {
    kioskId: string;
    code: string;
    enrolmentDesk: boolean;
  } {
    const k = NewKioskSchema.parse(input);
    const code = newProvisioningCode();
    this.store.transaction(() => {
      const venue = this.store.getVenue(k.venueId);
      if (!venue) throw new AppError('unknown-venue', `unknown venue ${k.venueId}`);
      if (!venue.services.includes(k.serviceId)) {
        throw new AppError('unknown-service', `venue ${k.venueId} does not offer ${k.serviceId}`);
      }
      if (this.store.getKiosk(k.id)) throw new AppError('bad-request', `kiosk ${k.id} exists`);
      this.store.addKiosk({
        id: k.id,
        venueId: k.venueId,
        serviceId: k.serviceId,
        status: 'pending',
        codeHash: hashProvisioningCode(code),
        codeExpiresAt: this.now() + k.codeValidDays * 86_400_000,
        publicKey: null,
        ackSeq: 0,
        lastPushAt: null,
        lastPullAt: null,
        clockOffsetMs: null,
      });
      if (k.enrolmentDesk) setEnrolmentDesk(this.store, k.id, true);
    });
    return { kioskId: k.id, code, enrolmentDesk: k.enrolmentDesk };
  }

  /**
   * Makes a kiosk an enrolment desk (attended, holding the issuing keys in its own
   * config), or stops it being one: from then on its enrolments and card replacements
   * are accepted, or refused.
   */
  setEnrolmentDesk(id: string, on: boolean): { kioskId: string; enrolmentDesk: boolean } {
    const kioskId = KioskIdSchema.parse(id);
    this.store.transaction(() => {
      if (!this.store.getKiosk(kioskId)) throw new AppError('not-found', `unknown kiosk ${id}`);
      setEnrolmentDesk(this.store, kioskId, on);
    });
    return { kioskId, enrolmentDesk: on };
  }

  isEnrolmentDesk(id: string): boolean {
    return isEnrolmentDesk(this.store, id);
  }

  highestCounter(cardHash: string): number | null {
    return this.store.highestCounter(cardHash);
  }

  revokeKiosk(id: string): void {
    if (!this.store.getKiosk(id)) throw new AppError('not-found', `unknown kiosk ${id}`);
    this.store.setKioskStatus(id, 'revoked');
  }

  publishScheme(input: unknown): SchemeDefinition {
    const def = SchemeDefinitionSchema.parse(input);
    this.store.transaction(() => {
      const existing = this.store.listSchemes().filter((s) => s.id === def.id);
      const top = Math.max(0, ...existing.map((s) => s.version));
      if (def.version !== top + 1) {
        throw new AppError('validation-failed', `next version of ${def.id} must be ${top + 1}`);
      }
      this.store.publishScheme(def, this.now());
      this.store.addChange('scheme', `${def.id}@${def.version}`, this.now());
    });
    return def;
  }
}
