import { EventEmitter } from 'node:events';
import { cardHashOf, londonDay, type CardAuth, type ErrorCode } from '@clubcard/shared';
import type {
  BridgeResult,
  CoreMessage,
  DisplayBalanceMsg,
  KioskState,
  Language,
  Offer,
  RejectedEventView,
  ResidentExtras,
  ResidentSummary,
  SpendOption,
  StaffCardRequest,
  StaffConsentRequest,
  StaffDeskView,
  StaffView,
} from '../bridge/kiosk-bridge.js';
import type { TapRead } from '@clubcard/hardware';
import type { PersonaliseResult } from '../card-auth/personalise-card.js';
import type { KioskStore } from '../store/kiosk-store.js';
import type { StaffStore } from '../store/staff-store.js';
import { StaffSessions, type StaffPolicy } from '../staff/staff-session.js';

/**
 * The redemption step of the kiosk core, as the screen needs it. The rules-engine
 * step (terminal/src/core/redemption-port.ts) is what the composition root wires;
 * without one the services offer nothing to spend (`redemptionNotWired`).
 */
export interface RedemptionPort {
  /** What the resident can spend here now (vouchers included) and a targeted offer. Runs on the tap path: keep it quick. */
  optionsFor(residentRef: string): { options: SpendOption[]; offer: Offer | null };
  /** Checks (checkRedemption) and records one redemption in one transaction, or refuses. */
  redeem(req: {
    residentRef: string;
    optionId: string;
    quantity: number;
    approvedBy: string | null;
  }): { ok: true; balances: DisplayBalanceMsg[] } | { ok: false; code: ErrorCode };
}

/** What the staff desk needs from the core and, online, the backend. */
export type DeskResult = { ok: true; firstName: string | null } | { ok: false; code: ErrorCode };

export interface StaffDeskPort {
  /** Residents matching a first name or reference, among those this kiosk holds. */
  lookup(query: string): Promise<ResidentSummary[]>;
  /** A visit recorded by hand for a resident who forgot their card (auth `staff-manual`, assisted). */
  recordVisitByHand(req: { residentRef: string; staffRef: string }): Promise<DeskResult>;
  /** Consent and volunteered attributes, given by the resident at the desk. */
  recordConsent(req: StaffConsentRequest & { staffRef: string }): Promise<DeskResult>;
  /** Enrolment desk: a new resident with this (personalised) card. */
  enrol(req: {
    firstName: string | null;
    ageBand: string;
    cardHash: string;
    /** How the new card proved itself when tapped (the kind of card it is). */
    auth: CardAuth;
    staffRef: string;
  }): Promise<DeskResult>;
  /** Enrolment desk: the old card hotlisted at once, the new one issued; balances follow the resident. */
  replaceCard(req: {
    residentRef: string;
    cardHash: string;
    auth: CardAuth;
    staffRef: string;
  }): Promise<DeskResult>;
}

const deskNotWired = async (): Promise<DeskResult> => ({ ok: false, code: 'backend-unreachable' });
export const staffDeskNotWired: StaffDeskPort = {
  lookup: async () => [],
  recordVisitByHand: deskNotWired,
  recordConsent: deskNotWired,
  enrol: deskNotWired,
  replaceCard: deskNotWired,
};

export const redemptionNotWired: RedemptionPort = {
  optionsFor: () => ({ options: [], offer: null }),
  redeem: () => ({ ok: false, code: 'internal' }),
};

/** An enrolment desk's card personalisation (CardPersonaliser satisfies this). */
export interface PersonaliserPort {
  personalise(tap: TapRead): Promise<PersonaliseResult>;
}

/** The core as the services see it (KioskCore satisfies this). */
export interface ServicesCore {
  state(): KioskState;
  syncNow(): void;
  on(event: 'message', listener: (m: CoreMessage) => void): unknown;
  off(event: 'message', listener: (m: CoreMessage) => void): unknown;
}

export interface KioskServicesOptions {
  core: ServicesCore;
  store: Pick<KioskStore, 'identity' | 'getService' | 'rejectedEvents'>;
  staffStore: StaffStore;
  redemption?: RedemptionPort;
  desk?: StaffDeskPort;
  /** This kiosk holds issuing keys and is attended (enrolment desk). */
  enrolmentDesk?: boolean;
  /**
   * Enrolment desks with a reader that can personalise cards: blank NTAG 424 DNA cards
   * tapped for enrolment or replacement are personalised here first. Null elsewhere: a
   * kiosk that is not an enrolment desk never attempts it.
   */
  personaliser?: PersonaliserPort | null;
  now?: () => number;
  staffPolicy?: StaffPolicy;
  /** How long the resident of the last tap stays "on screen" for bridge calls. */
  residentWindowMs?: number;
}

interface OnScreen {
  residentRef: string;
  until: number;
  options: SpendOption[];
}

interface PendingApproval {
  id: string;
  residentRef: string;
  option: SpendOption;
  quantity: number;
  until: number;
}

const ok: BridgeResult = { ok: true, code: null };
/** How a card offered without its tap (demo and tests) counts: as the simulated reader's. */
const SIMULATED_AUTH: CardAuth = { method: 'simulated', keyVersion: null, counter: null };
const refused = (code: ErrorCode): BridgeResult => ({ ok: false, code });

/** A set that forgets its oldest entries beyond `cap`. */
class BoundedSet<T> {
  readonly #items = new Set<T>();
  constructor(readonly cap: number) {}
  add(x: T): void {
    this.#items.delete(x);
    this.#items.add(x);
    for (const oldest of this.#items) {
      if (this.#items.size <= this.cap) break;
      this.#items.delete(oldest);
    }
  }
  has(x: T): boolean {
    return this.#items.has(x);
  }
  delete(x: T): void {
    this.#items.delete(x);
  }
}

/**
 * What the kiosk screen can ask beyond taps, over either transport (the browser bridge
 * and Electron IPC): language memory, GP drop-in queue numbers, redemption, staff mode.
 * Re-emits the core's messages with what the screen adds to a recorded tap. The
 * renderer never names a resident: calls act on the resident of the last tap.
 */
export class KioskServices extends EventEmitter<{ message: [CoreMessage] }> {
  readonly #o: Required<Omit<KioskServicesOptions, 'staffPolicy'>>;
  readonly #staff: StaffSessions;
  #onScreen: OnScreen | null = null;
  readonly #approvals = new Map<string, PendingApproval>();
  #approvalSeq = 0;
  #desk: StaffDeskView = { status: 'idle', action: null, code: null, firstName: null };
  #capture: (StaffCardRequest & { until: number }) | null = null;
  /** Hashes of cards whose personalisation here was interrupted and not yet issued. */
  readonly #unfinished = new BoundedSet<string>(256);
  #timer: NodeJS.Timeout | null = null;
  readonly #listener = (m: CoreMessage): void => this.#fromCore(m);

  constructor(o: KioskServicesOptions) {
    super();
    this.#o = {
      redemption: redemptionNotWired,
      desk: staffDeskNotWired,
      enrolmentDesk: false,
      personaliser: null,
      now: Date.now,
      residentWindowMs: 5 * 60_000,
      ...o,
    };
    const venueId = o.store.identity()?.venueId ?? '';
    this.#staff = new StaffSessions(o.staffStore, venueId, this.#o.now, o.staffPolicy);
    o.core.on('message', this.#listener);
  }

  close(): void {
    this.#o.core.off('message', this.#listener);
    if (this.#timer) clearTimeout(this.#timer);
  }

  mode(): 'resident' | 'gp-drop-in' {
    const id = this.#o.store.identity();
    const kind = id ? this.#o.store.getService(id.serviceId)?.kind : null;
    return kind === 'gp-drop-in' ? 'gp-drop-in' : 'resident';
  }

  state(): KioskState {
    return { ...this.#o.core.state(), mode: this.mode(), enrolmentDesk: this.#o.enrolmentDesk };
  }

  syncNow(): void {
    this.#o.core.syncNow();
  }

  #fromCore(m: CoreMessage): void {
    if (m.type === 'state') {
      this.emit('message', { type: 'state', state: this.state() });
      return;
    }
    if (m.type !== 'outcome') {
      this.emit('message', m);
      return;
    }
    const o = m.outcome;
    if (o.kind !== 'recorded') {
      this.emit('message', m);
      return;
    }
    // Usually made already, while the tap was flushed (KioskCore.setScreenExtras).
    const resident = m.resident ?? this.#extrasFor(o.residentRef);
    // The resident on screen, whose spending the calls below act on: set only by a tap
    // shown as recorded.
    this.#onScreen = {
      residentRef: o.residentRef,
      until: this.#o.now() + this.#o.residentWindowMs,
      options: resident.spendOptions,
    };
    this.emit('message', { ...m, resident });
  }

  /**
   * What the screen shows beside a recorded tap: the core asks while the tap's record
   * is flushed (KioskCore.setScreenExtras); a message that comes without gets them here.
   */
  screenExtras(residentRef: string): ResidentExtras {
    return this.#extrasFor(residentRef);
  }

  /** What the screen shows beside a recorded tap. */
  #extrasFor(residentRef: string): ResidentExtras {
    const now = this.#o.now();
    const gp = this.mode() === 'gp-drop-in';
    // A GP check-in shows no offers or spending: the visit, the number, nothing more.
    const spend = gp ? { options: [], offer: null } : this.#o.redemption.optionsFor(residentRef);
    return {
      language: this.#o.staffStore.languageOf(residentRef),
      queueNumber: gp ? this.#o.staffStore.queueNumber(String(londonDay(now)), residentRef) : null,
      spendOptions: spend.options,
      offer: spend.offer,
    };
  }

  #current(): OnScreen | null {
    const s = this.#onScreen;
    if (s && s.until > this.#o.now()) return s;
    this.#onScreen = null;
    return null;
  }

  /** Remembers the language of the resident on screen (the session keeps it either way). */
  setLanguage(language: Language): BridgeResult {
    const s = this.#current();
    if (s) this.#o.staffStore.setLanguage(s.residentRef, language, this.#o.now());
    return ok;
  }

  redeem(optionId: string, quantity: number): BridgeResult {
    const s = this.#current();
    if (!s) return refused('not-found');
    const option = s.options.find((x) => x.id === optionId);
    if (!option) return refused('not-found');
    const amount = option.price * quantity;
    if (option.unavailable) {
      this.#emitRedemption(option, 'refused', option.unavailable, amount, null);
      return refused(option.unavailable);
    }
    if (option.needsApproval) {
      const id = `a-${++this.#approvalSeq}`;
      this.#approvals.set(id, {
        id,
        residentRef: s.residentRef,
        option,
        quantity,
        until: this.#o.now() + this.#o.residentWindowMs,
      });
      this.#emitRedemption(option, 'awaiting-approval', null, amount, null);
      this.#emitStaff();
      return ok;
    }
    return this.#commit(s.residentRef, option, quantity, null);
  }

  cancelRedemption(): BridgeResult {
    const s = this.#current();
    for (const [id, a] of this.#approvals) {
      if (s && a.residentRef === s.residentRef) {
        this.#approvals.delete(id);
        this.#emitRedemption(a.option, 'cancelled', null, a.option.price * a.quantity, null);
      }
    }
    this.#emitStaff();
    return ok;
  }

  #commit(
    residentRef: string,
    option: SpendOption,
    quantity: number,
    approvedBy: string | null,
  ): BridgeResult {
    const amount = option.price * quantity;
    const r = this.#o.redemption.redeem({ residentRef, optionId: option.id, quantity, approvedBy });
    if (!r.ok) {
      this.#emitRedemption(option, 'refused', r.code, amount, null);
      return refused(r.code);
    }
    this.#emitRedemption(option, 'done', null, amount, r.balances);
    return ok;
  }

  #emitRedemption(
    option: SpendOption,
    status: 'done' | 'awaiting-approval' | 'refused' | 'cancelled',
    code: ErrorCode | null,
    amount: number,
    balances: DisplayBalanceMsg[] | null,
  ): void {
    this.emit('message', {
      type: 'redemption',
      update: { optionId: option.id, status, code, wallet: option.wallet, amount, balances },
    });
  }

  // ---- staff mode -------------------------------------------------------------------

  /**
   * A tapped card's hash, offered to the screen services before the tap pipeline treats
   * it as a resident's visit: a staff card starts staff mode; while the desk waits for a
   * new card (enrolment, replacement) the card is taken for that. True when the tap was
   * taken here (it is then not a visit). Wired from the tap pipeline.
   */
  offerTap(cardHash: string, auth: CardAuth = SIMULATED_AUTH): boolean {
    const taken = this.#takeCapture();
    if (!taken) return this.staffCardTapped(cardHash);
    const { cap, staffRef } = taken;
    void this.#deskTask(cap.purpose, async () =>
      // A card that proves itself with our keys was personalised for someone already.
      auth.method === 'sun'
        ? { ok: false, code: 'card-already-issued' }
        : this.#issue(cap, staffRef, cardHash, auth),
    );
    return true;
  }

  /**
   * A blank NTAG 424 DNA tapped, offered before the venue's policy judges it: taken (true)
   * only by an enrolment desk that can personalise cards, while staff wait for a new card.
   * The screen says to keep the card on the reader; the card is personalised, read back as
   * a genuine SUN card, and only then issued. Anywhere else it is judged like any card.
   */
  offerBlankCard(tap: TapRead): boolean {
    const personaliser = this.#o.personaliser;
    const taken = personaliser ? this.#takeCapture() : null;
    if (!personaliser || !taken) return false;
    const { cap, staffRef } = taken;
    this.#desk = { status: 'personalising', action: cap.purpose, code: null, firstName: null };
    this.#emitStaff();
    void this.#deskTask(cap.purpose, async () => {
      const id = this.#o.store.identity();
      if (!id) return { ok: false, code: 'unknown-kiosk' };
      const made = await personaliser.personalise(tap);
      if (!made.ok) {
        if (made.code === 'card-personalisation-interrupted') {
          this.#unfinished.add(cardHashOf(id.cardHashKey, tap.identifier.toUpperCase()));
        }
        return { ok: false, code: made.code };
      }
      const cardHash = cardHashOf(id.cardHashKey, made.uid);
      // Complete with our keys: someone's card, unless this desk was stopped while reading
      // it back (then it was never issued). One issued elsewhere and not yet known here
      // would otherwise be bound twice (the backend refuses that, but only later).
      if (made.keysFound === 'ours' && !this.#unfinished.has(cardHash)) {
        return { ok: false, code: 'card-already-issued' };
      }
      const r = await this.#issue(cap, staffRef, cardHash, made.auth);
      if (r.ok) this.#unfinished.delete(cardHash);
      return r;
    });
    return true;
  }

  /** The desk's wait for a new card, ended: what it was for and who is signed in. */
  #takeCapture(): { cap: StaffCardRequest; staffRef: string } | null {
    const cap = this.#capture;
    const staff = this.#staff.signedIn();
    if (!cap || !staff || cap.until <= this.#o.now()) return null;
    this.#capture = null;
    return { cap, staffRef: staff.staffRef };
  }

  /** Issues the new card: enrols the resident, or replaces their card. */
  #issue(
    cap: StaffCardRequest,
    staffRef: string,
    cardHash: string,
    auth: CardAuth,
  ): Promise<DeskResult> {
    return cap.purpose === 'enrol'
      ? this.#o.desk.enrol({
          firstName: cap.firstName,
          ageBand: cap.ageBand,
          cardHash,
          auth,
          staffRef,
        })
      : this.#o.desk.replaceCard({ residentRef: cap.residentRef, cardHash, auth, staffRef });
  }

  /** A staff card tapped: true when it is a staff card here. */
  staffCardTapped(cardHash: string): boolean {
    const r = this.#staff.cardTapped(cardHash);
    if (r === 'not-staff') return false;
    this.#emitStaff();
    return true;
  }

  async staffLookup(query: string): Promise<ResidentSummary[] | null> {
    if (!this.#staff.signedIn()) return null;
    this.#staff.touch();
    try {
      return (await this.#o.desk.lookup(query)).slice(0, 20);
    } catch {
      return [];
    }
  }

  staffRecordVisit(residentRef: string): BridgeResult {
    const staff = this.#staff.signedIn();
    if (!staff) return refused('unauthenticated');
    void this.#deskTask('visit', () =>
      this.#o.desk.recordVisitByHand({ residentRef, staffRef: staff.staffRef }),
    );
    return ok;
  }

  staffConsent(req: StaffConsentRequest): BridgeResult {
    const staff = this.#staff.signedIn();
    if (!staff) return refused('unauthenticated');
    void this.#deskTask('consent', () =>
      this.#o.desk.recordConsent({ ...req, staffRef: staff.staffRef }),
    );
    return ok;
  }

  /** Enrolment desks only: waits (two minutes) for the new card to be tapped. */
  staffCard(req: StaffCardRequest): BridgeResult {
    if (!this.#staff.signedIn()) return refused('unauthenticated');
    if (!this.#o.enrolmentDesk) return refused('forbidden');
    this.#staff.touch();
    this.#capture = { ...req, until: this.#o.now() + 2 * 60_000 };
    this.#desk = { status: 'waiting-card', action: req.purpose, code: null, firstName: null };
    this.#emitStaff();
    return ok;
  }

  /** Demo and tests: a card's UID on the simulated reader, offered as a tap would be. */
  simulatedTap(uid: string): boolean {
    const id = this.#o.store.identity();
    return id ? this.offerTap(cardHashOf(id.cardHashKey, uid)) : false;
  }

  async #deskTask(
    action: NonNullable<StaffDeskView['action']>,
    run: () => Promise<DeskResult>,
  ): Promise<void> {
    this.#staff.touch();
    let r: DeskResult;
    try {
      r = await run();
    } catch {
      r = { ok: false, code: 'internal' };
    }
    this.#desk = r.ok
      ? { status: 'done', action, code: null, firstName: r.firstName }
      : { status: 'refused', action, code: r.code, firstName: null };
    this.#emitStaff();
  }

  staffPin(pin: string): BridgeResult {
    const r = this.#staff.enterPin(pin);
    this.#emitStaff();
    return r.ok ? ok : refused(r.code);
  }

  staffSignOut(): BridgeResult {
    this.#staff.signOut();
    this.#capture = null;
    this.#desk = { status: 'idle', action: null, code: null, firstName: null };
    this.#emitStaff();
    return ok;
  }

  staffExtend(): BridgeResult {
    const extended = this.#staff.touch();
    this.#emitStaff();
    return extended ? ok : refused('unauthenticated');
  }

  approve(id: string): BridgeResult {
    const staff = this.#staff.signedIn();
    if (!staff) return refused('unauthenticated');
    this.#staff.touch();
    const a = this.#approvals.get(id);
    if (!a || a.until <= this.#o.now()) {
      this.#approvals.delete(id);
      this.#emitStaff();
      return refused('not-found');
    }
    this.#approvals.delete(id);
    const r = this.#commit(a.residentRef, a.option, a.quantity, staff.staffRef);
    this.#emitStaff();
    return r;
  }

  rejectedEvents(): RejectedEventView[] | null {
    if (!this.#staff.signedIn()) return null;
    this.#staff.touch();
    return this.#o.store
      .rejectedEvents(50)
      .map((e) => ({ seq: e.seq, type: e.type, occurredAt: e.occurredAt, code: e.code }));
  }

  staffView(): StaffView {
    const now = this.#o.now();
    for (const [id, a] of this.#approvals) if (a.until <= now) this.#approvals.delete(id);
    const s = this.#staff.state();
    const signedIn = s.status === 'signed-in';
    return {
      status: s.status,
      firstName: s.status === 'signed-out' ? null : s.staff.firstName,
      attemptsLeft: this.#staff.attemptsLeft(),
      until: s.status === 'signed-out' ? null : s.until,
      warnFrom: this.#staff.warnFrom(),
      desk: signedIn ? this.#desk : { status: 'idle', action: null, code: null, firstName: null },
      approvals: signedIn
        ? [...this.#approvals.values()].map((a) => ({
            id: a.id,
            optionId: a.option.id,
            label: a.option.label,
            wallet: a.option.wallet,
            amount: a.option.price * a.quantity,
          }))
        : [],
    };
  }

  /** Tells the screen, and wakes up again when the session warns or ends. */
  #emitStaff(): void {
    const view = this.staffView();
    this.emit('message', { type: 'staff', staff: view });
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const now = this.#o.now();
    const next = [view.warnFrom, view.until].filter((t): t is number => t !== null && t > now);
    if (next.length > 0) {
      this.#timer = setTimeout(() => this.#emitStaff(), Math.min(...next) - now + 5);
      this.#timer.unref();
    }
  }
}
