export declare function walletName(wallet: string): string;
export declare function formatAmount(wallet: string, amount: number): string;
