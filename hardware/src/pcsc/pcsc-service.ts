import { connect } from 'node:net';

/**
 * Whether pcscd is there to talk to, checked *before* creating an nfc-pcsc NFC object.
 * This matters: @pokusew/pcsclite's constructor retries SCardEstablishContext in a busy
 * loop while it gets SCARD_E_NO_SERVICE, blocking the event loop until a daemon
 * appears. So we only construct once pcscd's client socket accepts a connection
 * (what libpcsclite itself connects to; a bare connect/close is harmless to pcscd).
 *
 * Elsewhere than Linux the PC/SC service is part of the OS and has no such socket: we
 * report it available and let the library decide.
 */
export function pcscSocketPath(): string {
  return process.env.PCSCLITE_CSOCK_NAME ?? '/run/pcscd/pcscd.comm';
}

export function pcscServiceAvailable(path = pcscSocketPath()): Promise<boolean> {
  if (process.platform !== 'linux') return Promise.resolve(true);
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (up: boolean): void => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}
