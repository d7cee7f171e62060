import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import {
  HidCardReader,
  PcscCardReader,
  SimulatedReader,
  type CardReader,
} from '@clubcard/hardware';
import {
  AppError,
  MemoryEngineState,
  cardHashOf,
  hexToBytes,
  type CardHash,
} from '@clubcard/shared';
import {
  type CardAuthDeps,
  cardAuthenticator,
  rehearseSunCheck,
} from './card-auth/authenticate-tap.js';
import { readKeyRingFromConfig } from './card-auth/card-keys.js';
import { CardPersonaliser, type CardPersonaliserDeps } from './card-auth/personalise-card.js';
import { loadKioskConfig, kioskDbFile, type KioskConfig } from './config.js';
import { KioskCore } from './core/kiosk-core.js';
import { IdleCollector } from './core/idle-gc.js';
import { KioskRedemption } from './core/redemption-port.js';
import { OfferStore } from './store/offer-store.js';
import { KioskStaffDesk } from './core/staff-desk.js';
import { bundleUi } from './server/ui-bundle.js';
import { KioskServices } from './server/kiosk-services.js';
import { startUiServer } from './server/ui-server.js';
import { DeskStore } from './store/desk-store.js';
import { KioskStore } from './store/kiosk-store.js';
import { StaffStore } from './store/staff-store.js';
import { provisionKiosk } from './sync/provision.js';
import { SyncClient } from './sync/sync-client.js';

export interface RunningKiosk {
  core: KioskCore;
  store: KioskStore;
  sync: SyncClient;
  /** What the screen asks beyond taps: redemption, staff mode and the staff desk. */
  services: KioskServices;
  uiUrl: string;
  reader: CardReader;
  close(): Promise<void>;
}

function createReader(config: KioskConfig): CardReader {
  switch (config.reader) {
    case 'simulated':
      return new SimulatedReader();
    case 'pcsc': {
      const wanted = config.pcscReaderName;
      return new PcscCardReader(wanted ? { readerFilter: (name) => name.includes(wanted) } : {});
    }
    case 'hid':
      return new HidCardReader({ rules: config.hidRules, driverType: config.hidDriver });
  }
}

/**
 * An enrolment desk's card personalisation, when it has the issuing and read keys and a
 * reader that gives an APDU channel (PC/SC). Null on every other kiosk: an unattended
 * kiosk holds no issuing keys (the config refuses them) and never personalises a card.
 */
function deskPersonaliser(
  config: KioskConfig,
  reader: CardReader,
  authenticate: CardPersonaliserDeps['authenticate'],
): CardPersonaliser | null {
  if (!config.enrolmentDesk || !config.issuingKey || !config.readKeys) return null;
  if (!(reader instanceof PcscCardReader)) return null;
  const read = readKeyRingFromConfig(config.readKeys).current;
  return new CardPersonaliser({
    channels: reader,
    issuing: {
      issuingKeyVersion: config.issuingKey.version,
      issuingMasterKey: hexToBytes(config.issuingKey.masterKeyHex, 'issuing master key', 16),
      readKeyVersion: read.version,
      readMasterKey: read.masterKey,
    },
    authenticate,
  });
}

/** The kiosk's composition root: adapters are chosen here, from validated config. */
export async function startKiosk(config: KioskConfig): Promise<RunningKiosk> {
  const log = pino({ name: 'kiosk', level: config.logLevel }, pino.destination(2));
  const store = new KioskStore(kioskDbFile(config));
  if (store.droppedSchemes.length > 0) {
    log.warn(
      { schemes: store.droppedSchemes },
      'stored scheme versions could not be read (older format): dropped, every scheme is pulled again',
    );
  }
  const reader = createReader(config);
  const sync = new SyncClient({
    store,
    backendUrl: config.backendUrl,
    intervalMs: config.syncIntervalMs,
  });
  const keyRing = config.readKeys ? readKeyRingFromConfig(config.readKeys) : null;
  const authDeps: CardAuthDeps = {
    keyRing,
    cardHash: (uid): CardHash => {
      const id = store.identity();
      if (!id) throw new AppError('unknown-kiosk', 'kiosk is not provisioned');
      return cardHashOf(id.cardHashKey, uid);
    },
    highestCounter: (hash) => store.highestCounter(hash),
    requiresProof: (hash) => store.requiresProof(hash),
    allowSimulated: config.demo !== null,
  };
  const authenticate = cardAuthenticator(authDeps);
  // The provisional engine state is shared by the tap path and the redemption step.
  const engine = new MemoryEngineState();
  const core = new KioskCore({
    store,
    reader,
    sync,
    authenticate,
    rehearseAuth: (uid, technology) => {
      if (technology === 'ntag424') rehearseSunCheck(authDeps, uid);
    },
    engine,
  });
  // Garbage is collected between taps, not during one (see idle-gc.ts).
  const idleGc = new IdleCollector();
  core.on('tap-timing', () => idleGc.afterTap());

  if (!store.identity()) {
    if (!config.provisioningCode) {
      store.close();
      throw new AppError(
        'config-invalid',
        'kiosk is not provisioned: set CLUBCARD_PROVISIONING_CODE',
      );
    }
    // Retry until the backend answers: a kiosk may be installed before the network is.
    for (let attempt = 0; ; attempt++) {
      try {
        await provisionKiosk(store, config.backendUrl, config.provisioningCode);
        break;
      } catch (e) {
        if (e instanceof AppError && e.code !== 'backend-unreachable') {
          store.close();
          throw e;
        }
        log.warn({ attempt }, 'backend unreachable during provisioning; retrying');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
      }
    }
    log.info('kiosk provisioned');
  }

  const desk = new DeskStore(store);
  const personaliser = deskPersonaliser(config, reader, (tap) =>
    authenticate(tap, { allowUidOnly: false }),
  );
  const services = new KioskServices({
    core,
    store,
    staffStore: new StaffStore(store.db),
    redemption: new KioskRedemption({
      store,
      desk,
      engine,
      online: () => sync.state().online,
      offers: new OfferStore(store.db),
    }),
    desk: new KioskStaffDesk({ store, desk, engine, enrolmentDesk: config.enrolmentDesk }),
    enrolmentDesk: config.enrolmentDesk,
    personaliser: personaliser && {
      personalise: async (tap) => {
        const made = await personaliser.personalise(tap);
        // The reason names the step, never the card.
        if (!made.ok) log.warn({ code: made.code, reason: made.reason }, 'card not personalised');
        return made;
      },
    },
  });
  // Staff cards and an enrolment desk's new cards are taken before they count as visits.
  core.setTapOffer((cardHash, auth) => services.offerTap(cardHash, auth));
  // Spending options and offers are made while a tap's record is flushed to disk.
  core.setScreenExtras((residentRef) => services.screenExtras(residentRef));
  if (personaliser) core.setBlankCardOffer((tap) => services.offerBlankCard(tap));

  const assets = await bundleUi();
  const demo =
    config.demo && reader instanceof SimulatedReader
      ? { token: config.demo.tapToken, reader, info: { cards: config.demo.cards } }
      : null;
  const ui = await startUiServer({
    core,
    assets,
    host: config.ui.host,
    port: config.ui.port,
    demo,
    services,
  });
  core.on('message', (m) => {
    if (m.type === 'outcome') {
      log.info(
        { kind: m.outcome.kind, code: m.outcome.kind === 'refused' ? m.outcome.code : undefined },
        'tap',
      );
    }
  });
  await core.start();
  return {
    core,
    store,
    sync,
    services,
    reader,
    uiUrl: ui.url,
    close: async () => {
      await ui.close();
      idleGc.stop();
      core.setTapOffer(null);
      core.setScreenExtras(null);
      core.setBlankCardOffer(null);
      services.close();
      await core.stop();
      store.close();
    },
  };
}

export function newDemoToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Entry point: `tsx terminal/src/main.ts` (config from file/env). */
export async function runFromEnv(): Promise<void> {
  const config = loadKioskConfig({ env: process.env });
  const k = await startKiosk(config);
  process.stdout.write(`${JSON.stringify({ ready: 'kiosk', url: k.uiUrl })}\n`);
  const stop = (): void => {
    void k.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await runFromEnv();
  } catch (e) {
    process.stderr.write(`kiosk: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
