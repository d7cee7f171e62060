import type {
  CoreMessage,
  DisplayBalanceMsg,
  KioskBridge,
  KioskState,
  RedemptionUpdate,
  RejectedEventView,
  ResidentExtras,
  ResidentSummary,
  SpendOption,
  StaffView,
  TapOutcome,
} from '../bridge/kiosk-bridge.js';
import {
  LANGUAGE_TAGS,
  formatAmount,
  localised,
  priceText,
  refusalText,
  t,
  walletName,
  walletTitle,
  type Language,
  type MessageKey,
  type Params,
} from '../i18n/i18n.js';
import { startDemo } from './demo.js';
import { Feedback } from './feedback.js';
import { httpBridge } from './http-bridge.js';

declare global {
  interface Window {
    /** Present when running inside the Electron shell (from the preload). */
    kiosk?: KioskBridge;
  }
}

const DEFAULT_LANGUAGE: Language = 'en';
/** The enrolment desk's refusals of a new card, shown to staff with what to do with it. */
const DESK_CARD_CODES: ReadonlySet<string> = new Set([
  'card-already-issued',
  'card-personalisation-interrupted',
  'card-personalisation-failed',
]);
/**
 * A resident's screen returns to the start on its own, so the next person does not see
 * it — but never as a trap (WCAG 2.2.1): after WARN_AFTER_MS a warning offers "I need
 * more time", which keeps the screen until Done; any touch or key restarts the clock.
 */
const WARN_AFTER_MS = 20_000;
const WARN_FOR_MS = 10_000;

type Screen = 'idle' | 'result' | 'spend' | 'confirm' | 'redeem' | 'staff';
const RESIDENT_SCREENS: ReadonlySet<Screen> = new Set(['result', 'spend', 'confirm', 'redeem']);
const PANELS: Record<Screen, string> = {
  idle: 'idle',
  result: 'result',
  spend: 'spend-panel',
  confirm: 'confirm-panel',
  redeem: 'redeem-panel',
  staff: 'staff-panel',
};

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

function item(text: string, data: Record<string, string> = {}): HTMLLIElement {
  const li = document.createElement('li');
  li.textContent = text;
  Object.assign(li.dataset, data);
  return li;
}

function button(text: string, onClick: () => void, cls = ''): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  if (cls) b.className = cls;
  b.addEventListener('click', onClick);
  return b;
}

const SIGNED_OUT: StaffView = {
  status: 'signed-out',
  firstName: null,
  attemptsLeft: null,
  until: null,
  warnFrom: null,
  approvals: [],
};

/** The kiosk screen: one page, screens shown one at a time, every string from i18n. */
export class KioskScreen {
  lang: Language = DEFAULT_LANGUAGE;
  /** The language chosen with the toggle in this session (until the screen goes idle). */
  sessionLang: Language | null = null;
  largeText = false;
  screen: Screen = 'idle';
  readonly feedback = new Feedback();
  #kiosk: KioskState | null = null;
  #outcome: TapOutcome | null = null;
  #extras: ResidentExtras | null = null;
  #balances: DisplayBalanceMsg[] = [];
  #chosen: SpendOption | null = null;
  #redemption: RedemptionUpdate | null = null;
  #staff: StaffView = SIGNED_OUT;
  #rejected: RejectedEventView[] | null = null;
  #pinError: 'wrong' | 'shape' | null = null;
  #lookup: ResidentSummary[] | null = null;
  #consentFor: ResidentSummary | null = null;
  #enrolOpen = false;
  #stay = false;
  #warnTimer: number | null = null;
  #endTimer: number | null = null;
  #staffTimer: number | null = null;

  constructor(private readonly bridge: KioskBridge) {
    const on = (id: string, fn: () => void): void => el(id).addEventListener('click', fn);
    on('lang-toggle', () => this.setLanguage(this.lang === 'en' ? 'cy' : 'en'));
    on('large-text', () => {
      this.largeText = !this.largeText;
      this.render();
    });
    on('sound', () => {
      this.feedback.sound = !this.feedback.sound;
      this.render();
    });
    on('speech', () => {
      this.feedback.speech = !this.feedback.speech;
      if (!this.feedback.speech) this.feedback.silence();
      this.render();
      if (this.feedback.speech) this.feedback.say(this.#summary(), this.lang);
    });
    on('staff-enter', () => this.#show('staff'));
    on('done', () => this.idle());
    on('spend', () => this.#show('spend'));
    on('spend-back', () => this.#show('result'));
    on('confirm-back', () => this.#show('spend'));
    on('confirm-yes', () => void this.#confirm());
    on('redeem-cancel', () => void this.bridge.cancelRedemption());
    on('redeem-done', () => this.idle());
    on('more-time', () => {
      this.#stay = true;
      this.#clearTimers();
      this.render();
      el('done').focus();
    });
    on('staff-leave', () => {
      if (this.#staff.status === 'signed-in' || this.#staff.status === 'awaiting-pin') {
        void this.bridge.staffSignOut();
      }
      this.idle();
    });
    on('pin-cancel', () => {
      void this.bridge.staffSignOut();
      this.idle();
    });
    on('staff-stay', () => void this.bridge.staffExtend());
    on('sync-now', () => {
      void this.bridge.syncNow();
      void this.bridge.staffExtend();
    });
    on('show-rejected', () => void this.#loadRejected());
    el<HTMLFormElement>('pin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#submitPin();
    });
    this.#buildKeypad();
    this.#buildDesk();
    // Any touch or key on a resident's screen restarts its clock.
    for (const ev of ['pointerdown', 'keydown'] as const) {
      document.addEventListener(ev, () => {
        // While the warning shows, its own button answers it (re-arming here would hide
        // the button under the pointer before the click lands).
        if (RESIDENT_SCREENS.has(this.screen) && !this.#stay && el('timeout').hidden) {
          this.#armTimers();
        }
      });
    }
    this.render();
  }

  async start(): Promise<void> {
    this.onMessage({ type: 'state', state: await this.bridge.getState() });
    this.bridge.onMessage((m) => this.onMessage(m));
  }

  onMessage(m: CoreMessage): void {
    switch (m.type) {
      case 'state':
        this.#kiosk = m.state;
        el('staff-enter').hidden = this.screen === 'staff' || m.state.mode === undefined;
        this.#renderStatus();
        if (this.screen === 'idle') this.#renderIdle();
        if (this.screen === 'staff') this.#renderStaff();
        break;
      case 'outcome':
        this.outcome(m.outcome, m.resident ?? null);
        break;
      case 'balances':
        if (
          this.#outcome?.kind === 'recorded' &&
          m.update.residentRef === this.#outcome.residentRef
        ) {
          this.#balances = m.update.balances;
          this.#renderBalances();
        }
        break;
      case 'redemption':
        this.#onRedemption(m.update);
        break;
      case 'staff':
        this.#onStaff(m.staff);
        break;
    }
  }

  outcome(o: TapOutcome, extras: ResidentExtras | null): void {
    this.#outcome = o;
    this.#extras = extras;
    this.#redemption = null;
    this.#chosen = null;
    this.#stay = false;
    if (o.kind === 'recorded') {
      this.#balances = o.balances;
      if (this.sessionLang) {
        this.lang = this.sessionLang;
        // Chosen before the tap: remember it for this resident.
        if (extras && extras.language !== this.sessionLang) {
          void this.bridge.setLanguage({ language: this.sessionLang });
        }
      } else if (extras?.language) {
        this.lang = extras.language;
      }
    } else {
      this.#balances = [];
    }
    this.#show('result');
    const body = document.body.dataset;
    body.renderedAt = String(performance.timeOrigin + performance.now());
    body.renderedEvent = o.kind === 'recorded' ? o.eventId : `refused:${o.code}`;
    const shown = body.renderedEvent;
    const summary = this.#summary();
    requestAnimationFrame(() => {
      body.shownAt = String(performance.timeOrigin + performance.now());
      body.shownEvent = shown;
      // Sound and speech after the frame that shows the answer: starting audio can take
      // a while the first time, and the screen must not wait for it.
      this.feedback.play(o.kind === 'recorded' ? 'ok' : 'refused');
      this.feedback.say(summary, this.lang);
    });
  }

  setLanguage(lang: Language): void {
    this.lang = lang;
    this.sessionLang = lang;
    if (RESIDENT_SCREENS.has(this.screen) && this.#outcome?.kind === 'recorded') {
      void this.bridge.setLanguage({ language: lang });
    }
    this.render();
    this.feedback.say(this.#summary(), this.lang);
  }

  /** Back to the start: the next person starts a fresh session. */
  idle(): void {
    this.#clearTimers();
    // A resident who walks away leaves nothing for staff to approve in their absence.
    if (this.#redemption?.status === 'awaiting-approval') void this.bridge.cancelRedemption();
    this.#outcome = null;
    this.#extras = null;
    this.#balances = [];
    this.#chosen = null;
    this.#redemption = null;
    this.#rejected = null;
    this.#lookup = null;
    this.#consentFor = null;
    this.#enrolOpen = false;
    this.#stay = false;
    this.sessionLang = null;
    this.lang = DEFAULT_LANGUAGE;
    this.largeText = false;
    this.feedback.speech = false;
    this.feedback.silence();
    this.#show('idle');
  }

  #tx(key: MessageKey, params?: Params): string {
    return t(this.lang, key, params);
  }

  #show(screen: Screen): void {
    this.screen = screen;
    if (RESIDENT_SCREENS.has(screen) && !this.#stay) this.#armTimers();
    if (!RESIDENT_SCREENS.has(screen)) this.#clearTimers();
    this.render();
    const focusTarget: Record<Screen, string> = {
      idle: 'idle-title',
      result: 'done',
      spend: 'spend-title',
      confirm: 'confirm-title',
      redeem: 'redeem-title',
      staff: 'staff-title',
    };
    if (screen !== 'idle') el(focusTarget[screen]).focus();
  }

  #armTimers(): void {
    this.#clearTimers();
    el('timeout').hidden = true;
    this.#warnTimer = window.setTimeout(() => {
      el('timeout').hidden = false;
      el('timeout-text').textContent = this.#tx('result.timeout-warning', {
        seconds: WARN_FOR_MS / 1000,
      });
      this.feedback.play('attention');
    }, WARN_AFTER_MS);
    this.#endTimer = window.setTimeout(() => this.idle(), WARN_AFTER_MS + WARN_FOR_MS);
  }

  #clearTimers(): void {
    if (this.#warnTimer !== null) window.clearTimeout(this.#warnTimer);
    if (this.#endTimer !== null) window.clearTimeout(this.#endTimer);
    this.#warnTimer = this.#endTimer = null;
    el('timeout').hidden = true;
  }

  // ---- rendering ----------------------------------------------------------------------

  render(): void {
    const root = document.documentElement;
    root.lang = LANGUAGE_TAGS[this.lang];
    root.dataset.text = this.largeText ? 'large' : 'normal';
    document.title = this.#tx('app.title');
    const other: Language = this.lang === 'en' ? 'cy' : 'en';
    const lt = el('lang-toggle');
    lt.textContent = this.#tx('settings.language');
    lt.lang = LANGUAGE_TAGS[other];
    // The visible word stays part of the accessible name (WCAG 2.5.3).
    lt.setAttribute(
      'aria-label',
      `${t(this.lang, 'settings.language')} (${t(this.lang, 'settings.language-name')})`,
    );
    el('settings').setAttribute('aria-label', this.#tx('settings.label'));
    this.#toggle('large-text', 'settings.large-text', this.largeText);
    this.#toggle('sound', 'settings.sound', this.feedback.sound);
    this.#toggle('speech', 'settings.speech', this.feedback.speech);
    el('speech').hidden = !Feedback.canSpeak();
    el('staff-enter').textContent = this.#tx('staff.enter');
    // Staff mode needs the kiosk's screen services (they also report the mode).
    el('staff-enter').hidden = this.screen === 'staff' || this.#kiosk?.mode === undefined;
    el('done').textContent = this.#tx('result.done');
    el('spend').textContent = this.#tx('result.spend');
    el('more-time').textContent = this.#tx('result.more-time');
    el('timeout-text').textContent = this.#tx('result.timeout-warning', {
      seconds: WARN_FOR_MS / 1000,
    });
    const staying = el('staying');
    staying.textContent = this.#tx('result.staying');
    staying.hidden = !(this.#stay && RESIDENT_SCREENS.has(this.screen));
    el('demo-title').textContent = this.#tx('demo.title');
    for (const b of el('demo-cards').querySelectorAll<HTMLButtonElement>('button')) {
      b.textContent = this.#tx('demo.tap', { label: b.dataset.label ?? '' });
    }
    for (const [screen, id] of Object.entries(PANELS)) el(id).hidden = screen !== this.screen;
    this.#renderStatus();
    this.#renderIdle();
    this.#renderResult();
    this.#renderSpend();
    this.#renderConfirm();
    this.#renderRedeem();
    this.#renderStaff();
  }

  #toggle(id: string, key: MessageKey, on: boolean): void {
    const b = el(id);
    b.textContent = this.#tx(key);
    b.setAttribute('aria-pressed', String(on));
  }

  #renderStatus(): void {
    const s = this.#kiosk;
    el('venue').textContent =
      [s?.venueName, s?.serviceName].filter(Boolean).join(' · ') || this.#tx('app.name');
    const sync = el('sync');
    if (!s) {
      sync.textContent = this.#tx('status.starting');
      return;
    }
    sync.dataset.online = String(s.sync.online);
    sync.dataset.backlog = String(s.sync.backlog);
    if (s.sync.progress) {
      sync.textContent = this.#tx('status.sending', {
        done: s.sync.progress.done,
        total: s.sync.progress.total,
      });
    } else if (s.sync.online) {
      sync.textContent =
        s.sync.backlog > 0
          ? `${this.#tx('status.online')} · ${this.#tx('status.backlog', { count: s.sync.backlog })}`
          : this.#tx('status.online');
    } else {
      sync.textContent =
        s.sync.backlog > 0
          ? this.#tx('status.offline-saved', { count: s.sync.backlog })
          : this.#tx('status.offline');
    }
  }

  #renderIdle(): void {
    const gp = this.#kiosk?.mode === 'gp-drop-in';
    el('idle-title').textContent = this.#tx(gp ? 'idle.gp-title' : 'idle.title');
    el('idle-hint').textContent = this.#tx(gp ? 'idle.gp-hint' : 'idle.hint');
    const reader = el('reader');
    const status = this.#kiosk?.reader.status ?? 'ready';
    reader.dataset.status = status;
    reader.textContent = status === 'ready' ? '' : this.#tx('reader.unavailable');
  }

  #renderResult(): void {
    const o = this.#outcome;
    const result = el('result');
    if (!o) {
      result.dataset.kind = '';
      return;
    }
    const x = this.#extras;
    const title = el('result-title');
    const detail = el('result-detail');
    const help = el('result-help');
    const queue = el('queue');
    result.dataset.kind = o.kind;
    result.dataset.code = o.kind === 'refused' ? o.code : '';
    result.dataset.eventId = o.kind === 'recorded' ? o.eventId : '';
    if (o.kind === 'refused') {
      result.className = 'panel result-refused';
      const r = refusalText(this.lang, o.code);
      title.textContent = this.#tx('refusal.title');
      detail.textContent = r.what;
      help.textContent = r.help;
      help.hidden = false;
      queue.hidden = true;
      el('earned').replaceChildren();
      el('spend').hidden = true;
      el('offer').hidden = true;
      this.#renderBalances();
      return;
    }
    result.className = 'panel result-ok';
    help.hidden = true;
    const gp = x?.queueNumber !== null && x?.queueNumber !== undefined;
    if (gp) {
      title.textContent = o.firstName
        ? this.#tx('gp.title-name', { name: o.firstName })
        : this.#tx('gp.title');
    } else {
      title.textContent = o.firstName
        ? this.#tx('result.welcome-name', { name: o.firstName })
        : this.#tx('result.welcome');
    }
    detail.textContent = this.#tx('result.recorded', {
      service: o.serviceName,
      venue: o.venueName,
    });
    queue.hidden = !gp;
    if (gp) {
      el('queue-label').textContent = this.#tx('gp.number');
      el('queue-number').textContent = String(x.queueNumber);
      el('queue-seat').textContent = this.#tx('gp.seat');
      el('queue-privacy').textContent = this.#tx('gp.privacy');
    }
    el('earned').replaceChildren(
      ...o.earned.map((e) =>
        item(
          this.#tx('result.earned', {
            amount: formatAmount(this.lang, e.wallet, e.amount),
            wallet: walletName(this.lang, e.wallet),
          }),
          { wallet: e.wallet, amount: String(e.amount) },
        ),
      ),
    );
    this.#renderBalances();
    const offer = x?.offer ?? null;
    el('offer').hidden = offer === null;
    if (offer) {
      el('offer-title').textContent = this.#tx('result.offer');
      el('offer-text').textContent = localised(this.lang, offer.title);
      el('offer-detail').textContent = offer.detail ? localised(this.lang, offer.detail) : '';
    }
    el('spend').hidden = (x?.spendOptions.length ?? 0) === 0;
  }

  #renderBalances(): void {
    const options = this.#extras?.spendOptions ?? [];
    const vouchers = this.#balances.filter((b) => b.wallet.startsWith('voucher:'));
    const others = this.#balances.filter((b) => !b.wallet.startsWith('voucher:'));
    const line = (b: DisplayBalanceMsg): HTMLLIElement => {
      const li = item(
        `${walletTitle(this.lang, b.wallet)}: ${formatAmount(this.lang, b.wallet, b.amount)}`,
        { wallet: b.wallet, amount: String(b.amount), provisional: String(b.provisional) },
      );
      if (b.provisional !== 0) {
        const s = document.createElement('span');
        s.className = 'pending';
        s.textContent = ` ${this.#tx('result.pending')}`;
        li.append(s);
      }
      const here = options.filter((o) => o.wallet === b.wallet);
      if (b.wallet.startsWith('voucher:') && here.length > 0) {
        const s = document.createElement('span');
        s.className = 'spend-here';
        s.textContent = `${this.#tx('result.spend-here')} ${here.map((o) => localised(this.lang, o.label)).join(', ')}`;
        li.append(s);
      }
      return li;
    };
    el('balances').replaceChildren(...others.map(line));
    el('vouchers').replaceChildren(...vouchers.map(line));
    el('balances-title').textContent = this.#tx('result.balances');
    el('balances-title').hidden = others.length === 0;
    el('vouchers-title').textContent = this.#tx('result.vouchers');
    el('vouchers-title').hidden = vouchers.length === 0;
  }

  #price(o: { wallet: string; price: number }): string {
    return priceText(this.lang, o.wallet, o.price);
  }

  #renderSpend(): void {
    const options = this.#extras?.spendOptions ?? [];
    el('spend-title').textContent = this.#tx('spend.title');
    el('spend-back').textContent = this.#tx('spend.back');
    el('spend-none').textContent = this.#tx('spend.none');
    el('spend-none').hidden = options.length > 0;
    el('spend-options').replaceChildren(
      ...options.map((o) => {
        const li = document.createElement('li');
        const b = button(
          this.#tx('spend.option', { label: localised(this.lang, o.label), price: this.#price(o) }),
          () => {
            this.#chosen = o;
            if (o.unavailable) void this.bridge.redeem({ optionId: o.id, quantity: 1 });
            else this.#show('confirm');
          },
        );
        b.dataset.option = o.id;
        const note = o.unavailable
          ? this.#tx('spend.unavailable')
          : o.needsApproval
            ? this.#tx('spend.needs-staff')
            : '';
        if (note) {
          const s = document.createElement('span');
          s.className = 'note';
          s.textContent = note;
          b.append(s);
        }
        li.append(b);
        return li;
      }),
    );
  }

  #renderConfirm(): void {
    const o = this.#chosen;
    el('confirm-back').textContent = this.#tx('spend.back');
    el('confirm-yes').textContent = this.#tx('spend.confirm-yes');
    if (!o) return;
    el('confirm-title').textContent = this.#tx('spend.confirm-title', {
      price: this.#price(o),
      label: localised(this.lang, o.label),
    });
    el('confirm-approval').textContent = this.#tx('spend.needs-staff');
    el('confirm-approval').hidden = !o.needsApproval;
  }

  async #confirm(): Promise<void> {
    const o = this.#chosen;
    if (!o) return;
    el<HTMLButtonElement>('confirm-yes').disabled = true;
    try {
      await this.bridge.redeem({ optionId: o.id, quantity: 1 });
    } finally {
      el<HTMLButtonElement>('confirm-yes').disabled = false;
    }
  }

  #onRedemption(u: RedemptionUpdate): void {
    if (!this.#outcome) return;
    this.#redemption = u;
    if (u.balances) this.#balances = u.balances;
    if (u.status === 'cancelled') {
      this.#show('result');
      return;
    }
    this.#show('redeem');
    this.feedback.play(
      u.status === 'done' ? 'ok' : u.status === 'refused' ? 'refused' : 'attention',
    );
    this.feedback.say(this.#summary(), this.lang);
  }

  #renderRedeem(): void {
    const u = this.#redemption;
    const panel = el('redeem-panel');
    el('redeem-cancel').textContent = this.#tx('spend.cancel');
    el('redeem-done').textContent = this.#tx('result.done');
    if (!u) return;
    panel.dataset.status = u.status;
    panel.dataset.code = u.code ?? '';
    const option = this.#extras?.spendOptions.find((o) => o.id === u.optionId);
    const label = option ? localised(this.lang, option.label) : '';
    const price = priceText(this.lang, u.wallet, u.amount);
    el('redeem-cancel').hidden = u.status !== 'awaiting-approval';
    el('redeem-balances').replaceChildren();
    if (u.status === 'awaiting-approval') {
      el('redeem-title').textContent = this.#tx('spend.approval-title');
      el('redeem-detail').textContent = this.#tx('spend.approval-detail');
    } else if (u.status === 'done') {
      el('redeem-title').textContent = this.#tx('spend.done-title');
      el('redeem-detail').textContent = this.#tx('spend.done-detail', { price, label });
      el('redeem-balances').replaceChildren(
        ...this.#balances.map((b) =>
          item(
            `${walletTitle(this.lang, b.wallet)}: ${formatAmount(this.lang, b.wallet, b.amount)}`,
            {
              wallet: b.wallet,
              amount: String(b.amount),
            },
          ),
        ),
      );
    } else {
      const r = refusalText(this.lang, u.code ?? 'internal');
      el('redeem-title').textContent = this.#tx('refusal.title');
      el('redeem-detail').textContent = `${r.what} ${r.help}`;
    }
  }

  // ---- staff mode ---------------------------------------------------------------------

  #onStaff(v: StaffView): void {
    const before = this.#staff.status;
    this.#staff = v;
    if (v.status !== 'awaiting-pin') this.#pinError = null;
    if (v.status === 'awaiting-pin' || v.status === 'locked') {
      if (this.screen !== 'staff') this.#show('staff');
      else this.render();
      if (v.status === 'awaiting-pin' && before !== 'awaiting-pin') el('pin').focus();
    } else if (v.status === 'signed-in' && before !== 'signed-in') {
      this.#show('staff');
    } else if (v.status === 'signed-out' && before !== 'signed-out' && this.screen === 'staff') {
      this.idle();
    } else if (this.screen === 'staff') {
      this.#renderStaff();
    }
    if (this.#staffTimer !== null) window.clearTimeout(this.#staffTimer);
    this.#staffTimer = null;
    if (v.warnFrom !== null && v.warnFrom > Date.now()) {
      this.#staffTimer = window.setTimeout(() => this.#renderStaff(), v.warnFrom - Date.now() + 50);
    }
  }

  #buildKeypad(): void {
    const pin = el<HTMLInputElement>('pin');
    const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'back'];
    el('keypad').replaceChildren(
      ...keys.map((k) => {
        const b = button(k === 'clear' ? '' : k === 'back' ? '⌫' : k, () => {
          if (k === 'clear') pin.value = '';
          else if (k === 'back') pin.value = pin.value.slice(0, -1);
          else if (pin.value.length < 8) pin.value += k;
        });
        b.dataset.key = k;
        return b;
      }),
    );
  }

  async #submitPin(): Promise<void> {
    const input = el<HTMLInputElement>('pin');
    const pin = input.value;
    input.value = '';
    if (!/^[0-9]{4,8}$/.test(pin)) {
      this.#pinError = 'shape';
      this.#renderStaff();
      return;
    }
    const r = await this.bridge.staffPin({ pin });
    if (!r.ok && r.code === 'unauthenticated') {
      // The count comes from the staff view, which the core sends with every change.
      this.#pinError = 'wrong';
      this.#renderStaff();
      input.focus();
    }
  }

  async #loadRejected(): Promise<void> {
    this.#rejected = await this.bridge.rejectedEvents();
    this.#renderStaff();
  }

  #renderStaff(): void {
    const v = this.#staff;
    const panel = el('staff-panel');
    panel.dataset.status = v.status;
    el('staff-leave').textContent =
      v.status === 'signed-in' ? this.#tx('staff.sign-out') : this.#tx('staff.cancel');
    el('pin-label').textContent = this.#tx('staff.pin-label');
    el('pin-submit').textContent = this.#tx('staff.pin-submit');
    el('pin-cancel').textContent = this.#tx('staff.cancel');
    const clear = el('keypad').querySelector<HTMLButtonElement>('[data-key="clear"]');
    if (clear) clear.textContent = this.#tx('staff.clear');
    const back = el('keypad').querySelector<HTMLButtonElement>('[data-key="back"]');
    back?.setAttribute('aria-label', this.#tx('staff.backspace'));
    el('pin-error').textContent =
      this.#pinError === 'wrong'
        ? this.#tx('staff.pin-wrong', { count: v.attemptsLeft ?? 0 })
        : this.#pinError === 'shape'
          ? this.#tx('staff.pin-title')
          : '';
    el('pin-form').hidden = v.status !== 'awaiting-pin';
    el('staff-home').hidden = v.status !== 'signed-in';
    el('pin-cancel').hidden = true;
    const msg = el('staff-message');
    if (v.status === 'signed-out') {
      el('staff-title').textContent = this.#tx('staff.title');
      msg.textContent = this.#tx('staff.tap-card');
    } else if (v.status === 'awaiting-pin') {
      el('staff-title').textContent = this.#tx('staff.pin-title');
      msg.textContent = this.#tx('staff.pin-hello', { name: v.firstName ?? '' });
    } else if (v.status === 'locked') {
      el('staff-title').textContent = this.#tx('staff.title');
      msg.textContent = this.#tx('staff.locked');
    } else {
      el('staff-title').textContent = this.#tx('staff.title');
      msg.textContent = this.#tx('staff.signed-in', { name: v.firstName ?? '' });
      this.#renderStaffHome(v);
    }
  }

  #renderStaffHome(v: StaffView): void {
    const warn = v.warnFrom !== null && Date.now() >= v.warnFrom;
    el('staff-warning').hidden = !warn;
    el('staff-warning-text').textContent = this.#tx('staff.warning');
    el('staff-stay').textContent = this.#tx('staff.stay');
    el('approvals-title').textContent = this.#tx('staff.approvals');
    el('approvals-none').textContent =
      v.approvals.length === 0 ? this.#tx('staff.no-approvals') : '';
    el('approvals').replaceChildren(
      ...v.approvals.map((a) => {
        const li = document.createElement('li');
        const b = button(
          `${this.#tx('staff.approve')}: ${this.#tx('spend.option', { label: localised(this.lang, a.label), price: priceText(this.lang, a.wallet, a.amount) })}`,
          () => void this.bridge.approve({ id: a.id }),
        );
        b.dataset.approval = a.id;
        li.append(b);
        return li;
      }),
    );
    el('sync-title').textContent = this.#tx('staff.sync');
    const last = this.#kiosk?.sync.lastSuccessAt ?? null;
    el('staff-sync').textContent =
      last === null
        ? this.#tx('staff.never-synced')
        : this.#tx('staff.last-sync', {
            time: new Date(last).toLocaleTimeString(LANGUAGE_TAGS[this.lang]),
          });
    el('sync-now').textContent = this.#tx('staff.sync-now');
    el('rejected-title').textContent = this.#tx('staff.rejected');
    el('show-rejected').textContent = this.#tx('staff.show-rejected');
    const rej = this.#rejected;
    el('rejected').replaceChildren(
      ...(rej === null
        ? []
        : rej.length === 0
          ? [item(this.#tx('staff.no-rejected'))]
          : rej.map((r) =>
              item(
                this.#tx('staff.rejected-row', { seq: r.seq, type: r.type, code: r.code ?? '' }),
              ),
            )),
    );
    el('enrolment-note').textContent = this.#kiosk?.enrolmentDesk
      ? ''
      : this.#tx('staff.enrolment-only');
    this.#renderDesk(v);
  }

  // ---- staff desk: find a resident, visit by hand, consent, enrol, replace -----------

  #buildDesk(): void {
    el<HTMLFormElement>('lookup-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const query = el<HTMLInputElement>('lookup').value.trim();
      if (query.length < 2) return;
      void this.bridge.staffLookup({ query }).then((list) => {
        this.#lookup = list;
        this.#renderStaff();
      });
    });
    const attrs = ['carer', 'veteran', 'student', 'new-to-area'] as const;
    el('attributes').replaceChildren(
      ...attrs.map((a) => {
        const label = document.createElement('label');
        label.className = 'check';
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.id = `attr-${a}`;
        box.value = a;
        const span = document.createElement('span');
        span.dataset.key = `attr.${a}`;
        label.append(box, span);
        return label;
      }),
    );
    el<HTMLFormElement>('consent-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const who = this.#consentFor;
      if (!who) return;
      const attributes = attrs.filter((a) => el<HTMLInputElement>(`attr-${a}`).checked);
      void this.bridge.staffConsent({
        residentRef: who.residentRef,
        analytics: el<HTMLInputElement>('consent-analytics').checked,
        healthVisits: el<HTMLInputElement>('consent-health').checked,
        contact: el<HTMLInputElement>('consent-contact').checked,
        attributes,
      });
      this.#consentFor = null;
      this.#renderStaff();
    });
    el('consent-cancel').addEventListener('click', () => {
      this.#consentFor = null;
      this.#renderStaff();
    });
    el('enrol').addEventListener('click', () => {
      this.#enrolOpen = true;
      this.#renderStaff();
      el('enrol-name').focus();
    });
    el('enrol-cancel').addEventListener('click', () => {
      this.#enrolOpen = false;
      this.#renderStaff();
    });
    el<HTMLFormElement>('enrol-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const name = el<HTMLInputElement>('enrol-name').value.trim();
      const ageBand = el<HTMLSelectElement>('enrol-age').value as
        '0-12' | '13-19' | '20-29' | '30-44' | '45-64' | '65-74' | '75+';
      this.#enrolOpen = false;
      void this.bridge.staffCard({ purpose: 'enrol', firstName: name || null, ageBand });
    });
  }

  #deskMessage(v: StaffView): string {
    const d = v.desk;
    if (!d || d.status === 'idle' || !d.action) return '';
    if (d.status === 'waiting-card') return this.#tx('staff.tap-new-card');
    if (d.status === 'personalising') return this.#tx('staff.personalising');
    if (d.status === 'refused') {
      const code = d.code ?? 'internal';
      const refused = refusalText(this.lang, code);
      // A card the desk could not issue: staff also need to know what to do with it.
      const reason =
        code === 'backend-unreachable'
          ? this.#tx('staff.offline')
          : DESK_CARD_CODES.has(code)
            ? `${refused.what} ${refused.help}`
            : refused.what;
      return this.#tx('staff.refused', { reason });
    }
    const name = d.firstName ?? this.#tx('staff.this-resident');
    return this.#tx(`staff.done.${d.action}`, { name });
  }

  #renderDesk(v: StaffView): void {
    const desk = this.#kiosk?.enrolmentDesk === true;
    el('desk-status').textContent = this.#deskMessage(v);
    el('desk-status').dataset.status = v.desk?.status ?? 'idle';
    el('residents-title').textContent = this.#tx('staff.residents');
    el('lookup-label').textContent = this.#tx('staff.search-label');
    el('lookup-submit').textContent = this.#tx('staff.search');
    el('lookup-none').textContent = this.#tx('staff.no-results');
    el('lookup-none').hidden = this.#lookup === null || this.#lookup.length > 0;
    // The search is of what this kiosk holds: offline, a new resident may be missing.
    el('lookup-offline').textContent = this.#tx('staff.lookup-offline');
    el('lookup-offline').hidden = this.#lookup === null || this.#kiosk?.sync.online !== false;
    el('lookup-results').replaceChildren(
      ...(this.#lookup ?? []).map((r) => {
        const li = document.createElement('li');
        li.className = 'resident-row';
        li.dataset.resident = r.residentRef;
        const name = document.createElement('span');
        name.textContent = this.#tx('staff.result-row', {
          name: r.firstName ?? this.#tx('staff.no-name'),
          age: r.ageBand,
        });
        const actions = document.createElement('div');
        actions.className = 'actions';
        actions.append(
          button(this.#tx('staff.record-visit'), () => {
            void this.bridge.staffRecordVisit({ residentRef: r.residentRef });
          }),
          button(this.#tx('staff.consent'), () => {
            this.#consentFor = r;
            this.#renderStaff();
            el('consent-analytics').focus();
          }),
        );
        if (desk) {
          actions.append(
            button(this.#tx('staff.replace'), () => {
              void this.bridge.staffCard({ purpose: 'replace', residentRef: r.residentRef });
            }),
          );
        }
        li.append(name, actions);
        return li;
      }),
    );
    const consent = this.#consentFor;
    el('consent-form').hidden = consent === null;
    el('consent-title').textContent = consent
      ? `${this.#tx('staff.consent')}: ${consent.firstName ?? this.#tx('staff.no-name')}`
      : this.#tx('staff.consent');
    el('consent-analytics-text').textContent = this.#tx('consent.analytics');
    el('consent-health-text').textContent = this.#tx('consent.health');
    el('consent-contact-text').textContent = this.#tx('consent.contact');
    el('consent-attributes').textContent = this.#tx('consent.attributes');
    for (const span of el('attributes').querySelectorAll<HTMLElement>('span[data-key]')) {
      span.textContent = this.#tx(span.dataset.key as MessageKey);
    }
    el('consent-save').textContent = this.#tx('consent.save');
    el('consent-cancel').textContent = this.#tx('staff.cancel');
    el('enrol').textContent = this.#tx('staff.enrol');
    el('enrol').hidden = !desk || this.#enrolOpen;
    el('enrol-form').hidden = !desk || !this.#enrolOpen;
    el('enrol-name-label').textContent = this.#tx('staff.first-name');
    el('enrol-age-label').textContent = this.#tx('staff.age-band');
    el('enrol-cancel').textContent = this.#tx('staff.cancel');
    el('enrol-continue').textContent = this.#tx('staff.continue');
  }

  /** What the screen says, as one spoken sentence or two. */
  #summary(): string {
    const parts: string[] = [];
    const title = (id: string): string => el(id).textContent ?? '';
    if (this.screen === 'idle') parts.push(title('idle-title'), title('idle-hint'));
    else if (this.screen === 'result') {
      parts.push(title('result-title'), title('result-detail'));
      if (!el('result-help').hidden) parts.push(title('result-help'));
      if (!el('queue').hidden) parts.push(`${title('queue-label')} ${title('queue-number')}.`);
      for (const li of el('earned').querySelectorAll('li')) parts.push(li.textContent ?? '');
    } else if (this.screen === 'redeem') parts.push(title('redeem-title'), title('redeem-detail'));
    else parts.push(title(`${PANELS[this.screen].replace('-panel', '')}-title`));
    const text = parts.filter(Boolean).join(' ');
    el('announce').textContent = text;
    return text;
  }
}

const bridge = window.kiosk ?? httpBridge();
const screen = new KioskScreen(bridge);
void screen.start();
void startDemo(() => screen.render());
