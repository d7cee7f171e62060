export * from './port.js';
export * from './simulated/simulated-reader.js';
export * from './pcsc/bytes.js';
export * from './pcsc/ndef.js';
export * from './pcsc/sun-url.js';
export * from './pcsc/card-reads.js';
export * from './pcsc/pcsc-service.js';
export * from './pcsc/pcsc-reader.js';
export type {
  NfcCardEvent,
  NfcFactory,
  NfcHandle,
  NfcReaderHandle,
  NfcEvents,
  NfcReaderEvents,
} from './pcsc/nfc-pcsc-binding.js';
export { loadNfcPcsc, wrapNfcObject } from './pcsc/nfc-pcsc-binding.js';
export * from './emulator/vpcd-protocol.js';
export * from './emulator/apdu.js';
export * from './emulator/virtual-card.js';
export * from './emulator/virtual-ntag21x.js';
export * from './emulator/tap.js';
export * from './emulator/virtual-ntag424.js';
export * from './pcsc/ntag424-commands.js';
export * from './hid/boot-keyboard.js';
export * from './hid/hid-reader.js';
