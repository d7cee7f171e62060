import {
  bytesToHex,
  diversifyAes128Key,
  hexToBytes,
  parseUrlCounter,
  type SunMessage,
  verifySun,
} from '@clubcard/shared';
import { Command } from 'commander';
import { UsageError } from './main.js';

/**
 * `clubcard card …` crypto tools, for operators checking a card by hand:
 *
 *   sun-verify  verify a SUN message (NTAG 424 DNA, AN12196) from its URL parameters
 *   diversify   an AN10922 AES-128 diversified key
 *
 * Output is one JSON object (sun-verify) or one hex line (diversify) on stdout. Exit
 * codes follow main.ts: 0 valid, 1 not valid, 2 bad usage or input.
 */
export function cardCommand(): Command {
  return new Command('card')
    .description('cards: crypto tools')
    .addCommand(sunVerifyCommand())
    .addCommand(diversifyCommand());
}

interface SunVerifyOptions {
  fileKey: string;
  cmac: string;
  picc?: string;
  metaKey?: string;
  uid?: string;
  counter?: string;
  enc?: string;
  macInput?: string;
}

function sunVerifyCommand(): Command {
  return new Command('sun-verify')
    .description(
      'verify a SUN message: encrypted PICCData (--picc, --meta-key) or plain mirrors (--uid, --counter)',
    )
    .requiredOption('--file-key <hex>', 'K_SDMFileRead of the card (16 bytes)')
    .requiredOption('--cmac <hex>', 'the SDMMAC from the message (8 bytes)')
    .option('--picc <hex>', 'encrypted PICCData (16 bytes)')
    .option('--meta-key <hex>', 'K_SDMMetaRead, to decrypt --picc (16 bytes)')
    .option('--uid <hex>', 'plain UID mirror (7 bytes)')
    .option('--counter <hex>', 'plain counter mirror: 6 hex digits, most significant first')
    .option('--enc <hex>', 'encrypted file data (whole 16-byte blocks)')
    .option(
      '--mac-input <text>',
      'the text the MAC covers (e.g. "<enc>&cmac="); empty when not given',
    )
    .addHelpText(
      'after',
      '\nPrints {"valid", "uid", "counter"} (and "fileData", as text, with --enc).' +
        '\nExit status: 0 valid, 1 not valid, 2 bad usage.',
    )
    .action((o: SunVerifyOptions) => {
      const { keys, message } = sunInput(o);
      const result = verifySun(keys, message);
      const out: Record<string, unknown> = {
        valid: result.valid,
        uid: result.uid ? bytesToHex(result.uid) : null,
        counter: result.counter,
      };
      if (o.enc !== undefined) {
        // Latin-1 maps each byte to one character: nothing is lost or replaced.
        out.fileData = result.valid && result.fileData ? result.fileData.toString('latin1') : null;
      }
      process.stdout.write(`${JSON.stringify(out)}\n`);
      if (!result.valid) {
        process.stderr.write(
          `clubcard: SUN message not valid (${result.reason}): ${result.message}\n`,
        );
        // A negative answer, not an error: main() returns process.exitCode.
        process.exitCode = 1;
      }
    });
}

function sunInput(o: SunVerifyOptions): {
  keys: Parameters<typeof verifySun>[0];
  message: SunMessage;
} {
  const encrypted = o.picc !== undefined || o.metaKey !== undefined;
  const plain = o.uid !== undefined || o.counter !== undefined;
  if (encrypted && plain) {
    throw new UsageError(
      'give either --picc with --meta-key (encrypted PICCData) or --uid with --counter (plain mirror), not both',
    );
  }
  if (!encrypted && !plain) {
    throw new UsageError(
      'give either --picc with --meta-key (encrypted PICCData) or --uid with --counter (plain mirror)',
    );
  }
  const fileReadKey = hexArg(o.fileKey, '--file-key', 16);
  const cmac = hexArg(o.cmac, '--cmac', 8);
  const tail = {
    cmac,
    ...(o.enc === undefined ? {} : { encFileData: encArg(o.enc) }),
    ...(o.macInput === undefined ? {} : { macInput: Buffer.from(o.macInput, 'latin1') }),
  };
  if (encrypted) {
    if (o.picc === undefined) throw new UsageError('--meta-key is only used with --picc');
    if (o.metaKey === undefined) throw new UsageError('--picc needs --meta-key to decrypt it');
    return {
      keys: { metaReadKey: hexArg(o.metaKey, '--meta-key', 16), fileReadKey },
      message: { piccData: hexArg(o.picc, '--picc', 16), ...tail },
    };
  }
  if (o.uid === undefined || o.counter === undefined) {
    throw new UsageError('--uid and --counter go together (the plain mirror)');
  }
  const counter = parseUrlCounter(o.counter);
  if (counter === null) {
    throw new UsageError(
      '--counter must be exactly 6 hex digits, most significant first, as in a SUN URL (e.g. 00003D)',
    );
  }
  return {
    keys: { fileReadKey },
    message: { uid: hexArg(o.uid, '--uid', 7), counter, ...tail },
  };
}

interface DiversifyOptions {
  master: string;
  uid: string;
  aid?: string;
  systemId?: string;
}

function diversifyCommand(): Command {
  return new Command('diversify')
    .description('AN10922 AES-128 key diversification: prints the diversified key in hex')
    .requiredOption('--master <hex>', 'master key (16 bytes)')
    .requiredOption('--uid <hex>', 'card UID (4, 7 or 10 bytes)')
    .option('--aid <hex>', 'application identifier (3 bytes)')
    .option('--system-id <text>', 'system identifier, printable ASCII')
    .action((o: DiversifyOptions) => {
      const masterKey = hexArg(o.master, '--master', 16);
      const uid = hexArg(o.uid, '--uid');
      if (![4, 7, 10].includes(uid.length)) {
        throw new UsageError(`--uid must be 4, 7 or 10 bytes; got ${uid.length}`);
      }
      const aid = o.aid === undefined ? undefined : hexArg(o.aid, '--aid', 3);
      let key: Buffer;
      try {
        key = diversifyAes128Key(masterKey, {
          uid,
          ...(aid ? { aid } : {}),
          ...(o.systemId === undefined ? {} : { systemIdentifier: o.systemId }),
        });
      } catch (e) {
        // Input too long for AN10922 (M ≤ 31 bytes), or a non-ASCII system identifier.
        throw usage(e);
      }
      process.stdout.write(`${bytesToHex(key)}\n`);
    });
}

function hexArg(value: string, name: string, length?: number): Buffer {
  try {
    return hexToBytes(value, name, length);
  } catch (e) {
    throw usage(e);
  }
}

function encArg(value: string): Buffer {
  const enc = hexArg(value, '--enc');
  if (enc.length === 0 || enc.length % 16 !== 0) {
    throw new UsageError(
      `--enc must be whole 16-byte blocks (32 hex digits each); got ${enc.length} bytes`,
    );
  }
  return enc;
}

function usage(e: unknown): UsageError {
  return new UsageError(e instanceof Error ? e.message : String(e));
}
