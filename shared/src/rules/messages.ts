import { walletUnit } from '../protocol/ledger.js';
import type { Period } from './london-time.js';

/** What the engine tells the resident (kiosk screen, self-service history). */
export type MessageCode =
  | 'earned'
  | 'achievement'
  | 'granted'
  | 'ward-target-met'
  | 'time-credited'
  | 'time-charged'
  | 'spent'
  | 'expired'
  | 'overdrawn'
  | 'limit-reached'
  | 'budget-exhausted'
  | 'too-late'
  | 'not-eligible'
  | 'already-granted'
  | 'approval-required'
  | 'over-maximum'
  | 'unknown-rule'
  | 'awaiting-confirmation'
  | 'awaiting-record'
  | 'already-confirmed'
  | 'confirmer-not-allowed'
  | 'credit-limit-reached'
  | 'same-member';

export interface ResidentMessage {
  code: MessageCode;
  /** Whose message it is (time-bank events concern two residents). */
  residentRef?: string;
  /** Amount in the wallet's unit, where the message is about one (for refusals: what it would have been). */
  amount?: number;
  wallet?: string;
  schemeId?: string;
  ruleId?: string;
  /** For limit-reached: which limit. */
  period?: Period;
  /** For limit-reached: the amount limit, in the wallet's unit … */
  limit?: number;
  /** … or the limit on the number of events. */
  maxEvents?: number;
  /** Whether the rule's own limit or the scheme-wide one was reached. */
  limitScope?: 'rule' | 'scheme';
  wardId?: string;
}

/** What the engine tells staff and the backend (review queues, dashboards). */
export type FlagCode =
  | 'late'
  | 'too-late'
  | 'overdrawn'
  | 'overdrawn-beyond-allowance'
  | 'restriction-violated'
  | 'approval-missing'
  | 'over-maximum'
  | 'unknown-scheme'
  | 'unknown-rule'
  | 'not-eligible'
  | 'limit-reached'
  | 'budget-exhausted'
  | 'credit-limit-reached'
  | 'confirmer-mismatch'
  | 'confirmer-not-allowed'
  | 'same-member';

export interface EngineFlag {
  code: FlagCode;
  /** Plain words, safe to show staff (no personal data beyond the resident ref). */
  detail: string;
  residentRef?: string;
  schemeId?: string;
  ruleId?: string;
  amount?: number;
}

/** An amount in a wallet's unit, in words: "£1.50", "40 points", "1 h 30 min". */
export function formatAmount(wallet: string, amount: number): string {
  switch (walletUnit(wallet)) {
    case 'pence': {
      const sign = amount < 0 ? '-' : '';
      const a = Math.abs(amount);
      return `${sign}£${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
    }
    case 'points':
      return `${amount} point${amount === 1 ? '' : 's'}`;
    case 'credits':
      return `${amount} credit${amount === 1 ? '' : 's'}`;
    case 'minutes': {
      const a = Math.abs(amount);
      const h = Math.floor(a / 60);
      const m = a % 60;
      const body = h > 0 ? (m > 0 ? `${h} h ${m} min` : `${h} h`) : `${m} min`;
      return amount < 0 ? `-${body}` : body;
    }
  }
}

const PERIOD_WORD: Record<Period, string> = {
  day: 'daily',
  week: 'weekly',
  month: 'monthly',
  year: 'yearly',
};

function limitWords(m: ResidentMessage): string {
  if (m.limit !== undefined && m.wallet !== undefined)
    return ` of ${formatAmount(m.wallet, m.limit)}`;
  if (m.maxEvents !== undefined) return ` of ${m.maxEvents} time${m.maxEvents === 1 ? '' : 's'}`;
  return '';
}

/** The message in plain words for a kiosk screen. */
export function describeMessage(m: ResidentMessage): string {
  const amt =
    m.wallet !== undefined && m.amount !== undefined ? formatAmount(m.wallet, m.amount) : '';
  switch (m.code) {
    case 'earned':
      return `You earned ${amt}.`;
    case 'achievement':
      return `Well done — streak complete! You earned ${amt}.`;
    case 'granted':
      return `${amt} has been added to your card.`;
    case 'ward-target-met':
      return `Your neighbourhood reached its target and earned ${amt} for local projects.`;
    case 'time-credited':
      return `Thank you: ${amt} of time credit added.`;
    case 'time-charged':
      return `${amt} of time credit used for the help you received.`;
    case 'spent':
      return `${amt} spent.`;
    case 'expired':
      return `${amt} expired unused.`;
    case 'overdrawn':
      return `This took your balance below zero by ${amt}.`;
    case 'limit-reached':
      return m.period
        ? `Nothing more to earn here: the ${PERIOD_WORD[m.period]} limit${limitWords(m)} is reached.`
        : 'Nothing more to earn here: the limit is reached.';
    case 'budget-exhausted':
      return "Nothing earned this time: the scheme's budget for now is used up.";
    case 'too-late':
      return 'This was recorded too long ago to earn anything now.';
    case 'not-eligible':
      return 'This offer is not available on your card.';
    case 'already-granted':
      return 'Already added to your card for this period.';
    case 'approval-required':
      return 'A member of staff needs to approve this.';
    case 'over-maximum':
      return 'That is more than this allows.';
    case 'unknown-rule':
      return 'This offer is not available any more.';
    case 'awaiting-confirmation':
      return 'Time recorded: it will be credited when the person you helped (or an organiser) confirms it.';
    case 'awaiting-record':
      return 'Confirmation noted: the time will be credited once its record arrives.';
    case 'already-confirmed':
      return 'This time has already been confirmed.';
    case 'confirmer-not-allowed':
      return 'This time needs confirming by someone else.';
    case 'credit-limit-reached':
      return 'Your time-credit balance is at its limit; the time bank covered the rest.';
    case 'same-member':
      return 'Time cannot be given to yourself.';
  }
}
