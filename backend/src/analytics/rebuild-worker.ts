import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { scanFeatures, type ScanContext, type ScanRange } from './feature-scan.js';

/** Worker of a parallel rebuild: scans one range of residents on its own read connection. */
interface Job {
  file: string;
  range: ScanRange;
  ctx: ScanContext;
}

const job = workerData as Job;
const db = new Database(job.file, { readonly: true, fileMustExist: true });
db.pragma('cache_size = -262144');
db.pragma('mmap_size = 17179869184');
try {
  const out = scanFeatures(db, job.range, job.ctx);
  const transfer = [
    out.ids.buffer,
    out.rows.buffer,
    out.usageStart.buffer,
    out.usage.buffer,
  ].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  parentPort?.postMessage(out, transfer);
} finally {
  db.close();
}
