import type {
  CoreMessage,
  DisplayBalanceMsg,
  KioskBridge,
  KioskState,
  TapOutcome,
} from '../bridge/kiosk-bridge.js';
import { DemoInfoSchema } from '../bridge/kiosk-bridge.js';
import { httpBridge } from './http-bridge.js';
import { formatAmount, walletName } from './format.js';

declare global {
  interface Window {
    /** Present when running inside the Electron shell (from the preload). */
    kiosk?: KioskBridge;
  }
}

const RESULT_MS = 8000;

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

function renderBalances(list: HTMLElement, balances: DisplayBalanceMsg[]): void {
  list.replaceChildren(
    ...balances.map((b) => {
      const li = document.createElement('li');
      li.textContent = `${walletName(b.wallet)}: ${formatAmount(b.wallet, b.amount)}`;
      if (b.provisional !== 0) {
        const s = document.createElement('span');
        s.className = 'pending';
        s.textContent = ' (being confirmed)';
        li.append(s);
      }
      li.dataset.wallet = b.wallet;
      li.dataset.amount = String(b.amount);
      li.dataset.provisional = String(b.provisional);
      return li;
    }),
  );
  el('balances-title').hidden = balances.length === 0;
}

class KioskScreen {
  #timer: number | null = null;
  #residentRef: string | null = null;

  constructor(private readonly bridge: KioskBridge) {
    el<HTMLButtonElement>('done').addEventListener('click', () => this.idle());
  }

  async start(): Promise<void> {
    this.state(await this.bridge.getState());
    this.bridge.onMessage((m) => this.onMessage(m));
  }

  onMessage(m: CoreMessage): void {
    if (m.type === 'state') this.state(m.state);
    else if (m.type === 'outcome') this.outcome(m.outcome);
    else if (m.type === 'balances' && m.update.residentRef === this.#residentRef) {
      renderBalances(el('balances'), m.update.balances);
    }
  }

  state(s: KioskState): void {
    el('venue').textContent =
      [s.venueName, s.serviceName].filter(Boolean).join(' · ') || 'Clubcard';
    const sync = el('sync');
    sync.dataset.online = String(s.sync.online);
    sync.dataset.backlog = String(s.sync.backlog);
    if (s.sync.progress)
      sync.textContent = `Sending visits ${s.sync.progress.done} of ${s.sync.progress.total}…`;
    else if (s.sync.online)
      sync.textContent = s.sync.backlog > 0 ? `Online · ${s.sync.backlog} to send` : 'Online';
    else
      sync.textContent =
        s.sync.backlog > 0 ? `Offline · ${s.sync.backlog} visits saved here` : 'Offline';
    const reader = el('reader');
    reader.dataset.status = s.reader.status;
    reader.textContent =
      s.reader.status === 'ready'
        ? ''
        : (s.reader.message ?? 'The card reader is not available. Please ask staff.');
  }

  outcome(o: TapOutcome): void {
    const result = el('result');
    const title = el('result-title');
    const detail = el('result-detail');
    const earned = el('earned');
    el('idle').hidden = true;
    result.hidden = false;
    if (o.kind === 'recorded') {
      this.#residentRef = o.residentRef;
      result.className = 'panel result-ok';
      title.textContent = o.firstName ? `Welcome, ${o.firstName}` : 'Welcome';
      detail.textContent = `${o.serviceName} at ${o.venueName} recorded.`;
      earned.replaceChildren(
        ...o.earned.map((e) => {
          const li = document.createElement('li');
          li.textContent = `+${formatAmount(e.wallet, e.amount)} ${walletName(e.wallet).toLowerCase()}`;
          return li;
        }),
      );
      renderBalances(el('balances'), o.balances);
      result.dataset.eventId = o.eventId;
    } else {
      this.#residentRef = null;
      result.className = 'panel result-refused';
      title.textContent = 'Sorry';
      detail.textContent = o.message;
      earned.replaceChildren();
      renderBalances(el('balances'), []);
      result.dataset.eventId = '';
    }
    result.dataset.kind = o.kind;
    result.dataset.code = o.kind === 'refused' ? o.code : '';
    document.body.dataset.renderedAt = String(performance.now());
    el<HTMLButtonElement>('done').focus();
    if (this.#timer !== null) window.clearTimeout(this.#timer);
    this.#timer = window.setTimeout(() => this.idle(), RESULT_MS);
  }

  idle(): void {
    if (this.#timer !== null) window.clearTimeout(this.#timer);
    this.#timer = null;
    this.#residentRef = null;
    el('result').hidden = true;
    el('idle').hidden = false;
  }
}

/** Demo only: buttons that "tap" the demo cards, when the URL carries the demo token. */
async function startDemo(): Promise<void> {
  const m = /(?:^#|&)demo=([A-Za-z0-9_-]{16,})/.exec(location.hash);
  if (!m?.[1]) return;
  const token = m[1];
  const r = await fetch('/api/demo', { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) return;
  const info = DemoInfoSchema.parse(await r.json());
  const box = el('demo-cards');
  for (const c of info.cards) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `Tap: ${c.label}`;
    b.dataset.uid = c.uid;
    b.addEventListener('click', () => {
      void fetch('/api/demo/tap', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ uid: c.uid }),
      });
    });
    box.append(b);
  }
  el('demo').hidden = false;
}

const bridge = window.kiosk ?? httpBridge();
void new KioskScreen(bridge).start();
void startDemo();
