/**
 * `npm start`: the whole system on one machine, on SQLite, with demo data — the backend,
 * one kiosk with a simulated reader, and the kiosk screen in a browser. Ctrl-C stops
 * everything cleanly. Data lives in ./data/demo (git-ignored); delete it to start over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { AdminService } from '../backend/src/admin/admin-service.js';
import { openBackend } from '../backend/src/app.js';
import {
  DEMO_BLOCKED_UID,
  DEMO_LIVING_CREDIT_SCHEME,
  DEMO_UNKNOWN_UID,
  loadDemoData,
} from '../backend/src/demo/demo-data.js';
import { StaffService } from '../backend/src/staff/staff-service.js';
import { newDemoToken } from '../terminal/src/main.js';
import { ensureDemoAnalyst, type DemoAnalyst } from '../backend/src/dashboard/demo-analyst.js';
import { openBackendDb } from '../backend/src/db/open.js';
import { BACKEND_NODE_FLAGS } from '../backend/src/runtime-flags.js';

const root = resolve(import.meta.dirname, '..');
const dataDir = resolve(process.env.CLUBCARD_DATA_DIR ?? resolve(root, 'data', 'demo'));
const backendPort = Number(process.env.CLUBCARD_PORT ?? 8080);
const kioskPort = Number(process.env.CLUBCARD_KIOSK_UI_PORT ?? 8081);
/** The demo's staff card, and its PIN (a demo only: printed on the card's button). */
const DEMO_STAFF_UID = '04CAFE00000001';
const DEMO_STAFF_PIN = '2468';

interface DemoState {
  code: string;
  kioskId: string;
  token: string;
  cards: { label: string; uid: string }[];
}

function prepare(): DemoState {
  mkdirSync(dataDir, { recursive: true });
  const stateFile = resolve(dataDir, 'demo.json');
  if (existsSync(stateFile)) return JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState;
  const { store, secrets } = openBackend(
    {
      dataDir,
      host: '127.0.0.1',
      port: backendPort,
      logLevel: 'info',
      maxClockSkewMs: 300_000,
      pullPageSize: 1000,
    },
    resolve(dataDir, 'backend.sqlite'),
  );
  try {
    const admin = new AdminService(store, secrets);
    const demo = loadDemoData(admin);
    const kiosk = demo.kiosks[0];
    if (!kiosk) throw new Error('demo data has no kiosk');
    // Something to spend living credits on at the pool (a swim needs staff approval), and
    // a member of staff whose card and PIN open staff mode on the demo kiosk.
    admin.publishScheme({
      ...DEMO_LIVING_CREDIT_SCHEME,
      version: 2,
      validFrom: '2021-01-01T00:00:00Z',
      redemption: {
        offlineAllowance: 50,
        rules: [
          {
            id: 'cafe-drink',
            item: 'hot-drink',
            description: 'A hot drink at the café',
            price: { kind: 'fixed', amount: 10 },
          },
          {
            id: 'free-swim',
            item: 'swim-session',
            description: 'A free swim',
            price: { kind: 'fixed', amount: 30 },
            where: { serviceIds: ['s-swim'] },
            approval: 'staff',
          },
        ],
      },
    });
    const staff = new StaffService(store.db, secrets.cardHashKey);
    const staffRef = staff.add({ firstName: 'Alex', venues: ['*'], pin: DEMO_STAFF_PIN });
    staff.issueCard(staffRef, { uid: DEMO_STAFF_UID });
    const state: DemoState = {
      code: kiosk.code,
      kioskId: kiosk.kioskId,
      token: newDemoToken(),
      cards: [
        ...demo.residents.map((r) => ({ label: r.firstName, uid: r.uid })),
        { label: 'Lost card', uid: DEMO_BLOCKED_UID },
        { label: 'Unknown card', uid: DEMO_UNKNOWN_UID },
        { label: `Staff card (PIN ${DEMO_STAFF_PIN})`, uid: DEMO_STAFF_UID },
      ],
    };
    writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
    return state;
  } finally {
    store.close();
  }
}

function launch(
  name: string,
  script: string,
  env: Record<string, string>,
  nodeFlags: readonly string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolveReady, reject) => {
    const args = [...nodeFlags, '--import', 'tsx', resolve(root, script)];
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      try {
        const m = JSON.parse(line) as { ready?: string; url?: string };
        if (m.ready === name && m.url) resolveReady({ child, url: m.url });
      } catch {
        process.stdout.write(`${line}\n`);
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with code ${code}`)));
  });
}

/** The demo analyst login the dashboard line prints (demo data only). */
async function demoAnalyst(): Promise<DemoAnalyst | null> {
  const db = openBackendDb(resolve(dataDir, 'backend.sqlite'));
  try {
    return await ensureDemoAnalyst(db, dataDir);
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const demo = prepare();
  const analyst = await demoAnalyst();
  const kioskConfig = resolve(dataDir, 'kiosk.json');
  writeFileSync(
    kioskConfig,
    JSON.stringify(
      {
        dataDir: resolve(dataDir, 'kiosk'),
        backendUrl: `http://127.0.0.1:${backendPort}`,
        provisioningCode: demo.code,
        ui: { host: '127.0.0.1', port: kioskPort },
        reader: 'simulated',
        syncIntervalMs: 3000,
        logLevel: 'warn',
        demo: { tapToken: demo.token, cards: demo.cards },
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping…\n');
    for (const c of children) c.kill('SIGINT');
    Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    ).then(
      () => process.exit(code),
      () => process.exit(code),
    );
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));

  const backend = await launch(
    'backend',
    'backend/src/main.ts',
    {
      CLUBCARD_DATA_DIR: dataDir,
      CLUBCARD_PORT: String(backendPort),
      CLUBCARD_LOG_LEVEL: 'warn',
    },
    BACKEND_NODE_FLAGS,
  );
  children.push(backend.child);
  const kiosk = await launch('kiosk', 'terminal/src/main.ts', {
    CLUBCARD_KIOSK_CONFIG: kioskConfig,
  });
  children.push(kiosk.child);
  for (const c of children) c.once('exit', () => stop(1));

  process.stdout.write(
    [
      '',
      'Public Service Clubcard is running (demo council, SQLite in ' + dataDir + ')',
      '',
      `  Kiosk screen:  ${kiosk.url}/#demo=${demo.token}`,
      `  Backend API:   ${backend.url}/api/v1/health`,
      `  Dashboard:     ${backend.url}/dashboard`,
      analyst
        ? `                 demo analyst login: ${analyst.name} / ${analyst.password}`
        : `                 (add an analyst: npx clubcard --data-dir ${dataDir} operator add --name <name> --role analyst)`,
      '',
      'Open the kiosk screen and press a "Tap" button to tap a demo card.',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
