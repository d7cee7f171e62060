import {
  buildSunTemplate,
  CardProtocolError,
  DEFAULT_SUN_URL_LAYOUT,
  FACTORY_KEY_VERSION,
  ForeignCardKeysError,
  personaliseNtag424,
  readType4Sun,
  sunFileSettings,
  TruncatedResponseError,
  type ApduChannel,
  type ApduChannelSource,
  type SunUrlLayout,
  type TapRead,
  type Transmit,
} from '@clubcard/hardware';
import { hexToBytes, NTAG424_UID_LENGTH } from '@clubcard/shared';
import type { TapAuthResult } from './authenticate-tap.js';
import { deriveIssuedCardKeys, type IssuingKeys } from './card-keys.js';

/**
 * Why a blank card was not made a Clubcard. Nothing is issued in any of these cases.
 *
 * - `card-personalisation-interrupted`: the card left the reader (or stopped answering)
 *   part-way: it may be partly personalised. Personalising it again (at any desk with the
 *   same issuing and read keys) finishes it.
 * - `card-personalisation-failed`: the card refused a step (neither a factory-fresh NTAG
 *   424 DNA nor one this desk's keys partly or fully personalised, e.g. someone else's
 *   keys: such a card is refused before anything is written to it), or did not read back
 *   as a genuine card afterwards.
 */
export type PersonaliseRefusal = 'card-personalisation-interrupted' | 'card-personalisation-failed';

/**
 * Which of the desk's keys the card already carried (by key version) when it was
 * presented: none (`factory`: a blank card, or one taken away before its first key
 * changed), some (`partly-ours`: an interrupted personalisation, now finished), or all
 * (`ours`: personalised before, left as it was and only read back).
 */
export type KeysFound = 'factory' | 'partly-ours' | 'ours';

/** The card personalised and read back as genuine (with its UID and SUN proof), or why not. */
export type PersonaliseResult =
  | (Extract<TapAuthResult, { ok: true }> & { keysFound?: KeysFound })
  | {
      ok: false;
      code: PersonaliseRefusal;
      /** Why, in words safe to log: never a UID or a key. */
      reason: string;
    };

export interface CardPersonaliserDeps {
  /** The reader's APDU channels (PcscCardReader). */
  channels: ApduChannelSource;
  /** The enrolment desk's issuing keys (and the read-key version new cards get). */
  issuing: IssuingKeys;
  /** The kiosk's authenticate step, as a tap is judged: the read-back must pass it. */
  authenticate: (tap: TapRead) => TapAuthResult;
  /** Where the SUN values sit in the card's URL (the reader's layout). */
  sunLayout?: SunUrlLayout;
  /**
   * After a failed exchange, how long to wait for the reader to report the card gone
   * before calling the failure the card's (pcscd polls about every 400 ms).
   */
  removalGraceMs?: number;
}

const UID7_HEX = new RegExp(`^[0-9A-F]{${NTAG424_UID_LENGTH * 2}}$`);

/**
 * An enrolment desk's card personalisation: a blank NTAG 424 DNA tapped while staff wait
 * for a new card gets its per-card keys (diversified from the issuing master, see
 * card-keys.ts), the SUN URL template and SUN switched on, over the reader's APDU
 * channel; then it is read back, as any kiosk would read it, and must verify as a genuine
 * SUN card under the desk's read keys before anything is bound to it. Only a kiosk
 * configured as an enrolment desk (holding the issuing keys) builds one.
 *
 * A card taken away part-way is finished when it is presented again: the key versions on
 * the card tell which keys were already changed (see personaliseNtag424), so the issuing
 * and read key versions must not be the factory version 00h.
 *
 * It never logs; its reasons carry no UID or key.
 */
export class CardPersonaliser {
  readonly #d: Required<CardPersonaliserDeps>;

  constructor(deps: CardPersonaliserDeps) {
    const { issuingKeyVersion, readKeyVersion } = deps.issuing;
    if (issuingKeyVersion === FACTORY_KEY_VERSION || readKeyVersion === FACTORY_KEY_VERSION) {
      throw new RangeError(
        'an enrolment desk needs issuing and read key versions 1-255: version 0 is the ' +
          'factory one, and a card taken away part-way could not be told from a blank one',
      );
    }
    this.#d = { sunLayout: DEFAULT_SUN_URL_LAYOUT, removalGraceMs: 1500, ...deps };
  }

  async personalise(tap: TapRead): Promise<PersonaliseResult> {
    const uid = tap.identifier.toUpperCase();
    if (!UID7_HEX.test(uid)) {
      return failed('the card shows no 7-byte UID (Random ID): it cannot be personalised here');
    }
    const channel = this.#d.channels.channel(tap.readerName);
    if (!channel?.open) return interrupted('the card left the reader before personalisation');
    const transmit: Transmit = (apdu) => channel.transmit(apdu);

    const keys = deriveIssuedCardKeys(this.#d.issuing, hexToBytes(uid));
    const template = buildSunTemplate(this.#d.sunLayout);
    let keysFound: KeysFound;
    try {
      const progress = await personaliseNtag424(transmit, {
        currentAppMasterKey: new Uint8Array(16),
        keys: keys.changeOrder,
        ndefFile: template.ndefFile,
        ndefFileSettings: sunFileSettings(template),
      });
      const changed = progress.keysAlreadyChanged.length;
      keysFound =
        changed === 0 ? 'factory' : changed === keys.changeOrder.length ? 'ours' : 'partly-ours';
    } catch (e) {
      if (e instanceof ForeignCardKeysError) {
        return failed(
          'the card carries keys of another issuer or key version: nothing was written',
        );
      }
      return this.#exchangeFailed(channel, e, 'personalisation');
    }

    let proof;
    try {
      const read = await readType4Sun(transmit, this.#d.sunLayout);
      if (read.kind !== 'sun') return failed('the card reads back without a SUN message');
      proof = read.proof;
    } catch (e) {
      return this.#exchangeFailed(channel, e, 'the read-back');
    }
    const checked = this.#d.authenticate({ ...tap, identifier: uid, proof });
    if (!checked.ok) return failed(`the card does not read back as genuine: ${checked.reason}`);
    const { auth } = checked;
    if (auth.method !== 'sun' || auth.keyVersion !== this.#d.issuing.readKeyVersion) {
      return failed('the card reads back under another read-key version');
    }
    return { ok: true, uid, auth, keysFound };
  }

  /** A failed exchange: the card gone (or silent) is an interruption, a refusal a failure. */
  async #exchangeFailed(
    channel: ApduChannel,
    e: unknown,
    during: string,
  ): Promise<PersonaliseResult> {
    if (await this.#goneWithin(channel)) {
      return interrupted(`the card left the reader during ${during}`);
    }
    if (e instanceof CardProtocolError && !(e instanceof TruncatedResponseError)) {
      return failed(`the card refused ${during}: ${e.message}`);
    }
    return interrupted(`the card stopped answering during ${during}`);
  }

  async #goneWithin(channel: ApduChannel): Promise<boolean> {
    const until = Date.now() + this.#d.removalGraceMs;
    while (channel.open && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return !channel.open;
  }
}

function failed(reason: string): PersonaliseResult {
  return { ok: false, code: 'card-personalisation-failed', reason };
}

function interrupted(reason: string): PersonaliseResult {
  return { ok: false, code: 'card-personalisation-interrupted', reason };
}
