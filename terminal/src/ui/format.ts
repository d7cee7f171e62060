/** How each wallet's integer amount reads to a resident. */
const WALLET_NAMES: Record<string, string> = {
  'leisure-credit': 'Leisure credit',
  'learning-points': 'Learning points',
  'living-credit': 'Living credits',
  'time-credit': 'Time credits',
};

export function walletName(wallet: string): string {
  if (wallet.startsWith('voucher:')) {
    const name = wallet.slice('voucher:'.length).replace(/-/g, ' ');
    return `Vouchers: ${name}`;
  }
  return WALLET_NAMES[wallet] ?? wallet;
}

export function formatAmount(wallet: string, amount: number): string {
  if (wallet === 'leisure-credit') {
    const sign = amount < 0 ? '−' : '';
    const p = Math.abs(amount);
    return `${sign}£${Math.floor(p / 100)}.${String(p % 100).padStart(2, '0')}`;
  }
  if (wallet === 'time-credit') {
    const h = Math.trunc(amount / 60);
    const m = Math.abs(amount % 60);
    return m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  return String(amount);
}
