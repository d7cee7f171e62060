/**
 * nfc-pcsc 0.8.1 ships no types. We declare its module as `unknown` on purpose: the
 * adapter narrows what it needs at runtime (nfc-pcsc-binding.ts), so nothing untyped
 * leaks into the rest of the code.
 */
declare module 'nfc-pcsc' {
  const nfcPcsc: unknown;
  export = nfcPcsc;
}
