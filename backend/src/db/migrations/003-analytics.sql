-- Analytics: consent, usage rollups, per-resident feature rows and published segments.
-- Everything here is derived from the event log (except consents) and can be rebuilt
-- from it; analysts only ever see k-anonymised aggregates computed from these tables.

-- What a resident agreed to, per purpose (e.g. 'segmentation-health': GP drop-in visits
-- may feed segmentation). No row means not granted.
CREATE TABLE consents (
  resident_ref TEXT NOT NULL REFERENCES residents(ref),
  purpose TEXT NOT NULL,
  granted INTEGER NOT NULL CHECK (granted IN (0, 1)),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (resident_ref, purpose)
) WITHOUT ROWID;

-- Small integer codes for venue, service and ward ids, so that rollup keys stay compact.
CREATE TABLE analytics_codes (
  kind TEXT NOT NULL CHECK (kind IN ('venue', 'service', 'ward')),
  key TEXT NOT NULL,
  code INTEGER NOT NULL,
  PRIMARY KEY (kind, key),
  UNIQUE (kind, code)
) WITHOUT ROWID;

-- Counters and settings of the analytics tables (e.g. the change version that tells an
-- in-memory cache whether it is current, the start of the feature window).
CREATE TABLE analytics_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

-- Usage rollup: visits by London week × hour-of-week × venue × service × age band ×
-- the resident's ward. `residents` is a capped set of analytics resident ids (sorted
-- int32 little-endian, at most 16): exact below the cap, which is all that k-anonymity
-- (k ≤ 16) needs to decide, and mergeable across cells.
CREATE TABLE analytics_usage (
  week INTEGER NOT NULL,
  how INTEGER NOT NULL,
  venue INTEGER NOT NULL,
  service INTEGER NOT NULL,
  age INTEGER NOT NULL,
  ward INTEGER NOT NULL,
  visits INTEGER NOT NULL,
  residents BLOB NOT NULL,
  PRIMARY KEY (week, how, venue, service, age, ward)
) WITHOUT ROWID;

-- One feature row per resident who has visited: counts over the feature window
-- (analytics_meta.window_start onwards), split into non-health (x_) and GP drop-in (g_)
-- so that GP visits can enter segmentation only for residents who consented, without
-- a rebuild when consent changes. Days are London day numbers; weeks London week numbers.
CREATE TABLE analytics_residents (
  id INTEGER PRIMARY KEY,
  resident_ref TEXT NOT NULL UNIQUE,
  age INTEGER NOT NULL,
  ward INTEGER NOT NULL,
  first_x INTEGER NOT NULL DEFAULT -1,
  last_x INTEGER NOT NULL DEFAULT -1,
  first_g INTEGER NOT NULL DEFAULT -1,
  last_g INTEGER NOT NULL DEFAULT -1,
  x_visits INTEGER NOT NULL DEFAULT 0,
  x_library INTEGER NOT NULL DEFAULT 0,
  x_leisure INTEGER NOT NULL DEFAULT 0,
  x_other INTEGER NOT NULL DEFAULT 0,
  x_morning INTEGER NOT NULL DEFAULT 0,
  x_midday INTEGER NOT NULL DEFAULT 0,
  x_after_school INTEGER NOT NULL DEFAULT 0,
  x_evening INTEGER NOT NULL DEFAULT 0,
  x_weekend INTEGER NOT NULL DEFAULT 0,
  x_offpeak INTEGER NOT NULL DEFAULT 0,
  g_visits INTEGER NOT NULL DEFAULT 0,
  g_morning INTEGER NOT NULL DEFAULT 0,
  g_midday INTEGER NOT NULL DEFAULT 0,
  g_after_school INTEGER NOT NULL DEFAULT 0,
  g_evening INTEGER NOT NULL DEFAULT 0,
  g_weekend INTEGER NOT NULL DEFAULT 0,
  g_offpeak INTEGER NOT NULL DEFAULT 0,
  x_venues INTEGER NOT NULL DEFAULT 0,
  x_services INTEGER NOT NULL DEFAULT 0,
  a_venues INTEGER NOT NULL DEFAULT 0,
  a_services INTEGER NOT NULL DEFAULT 0,
  ring_week INTEGER NOT NULL DEFAULT -1,
  x_weeks_lo INTEGER NOT NULL DEFAULT 0,
  x_weeks_hi INTEGER NOT NULL DEFAULT 0,
  a_weeks_lo INTEGER NOT NULL DEFAULT 0,
  a_weeks_hi INTEGER NOT NULL DEFAULT 0,
  -- Per venue × service used: [venue, service, visits in window, last day, ring week,
  -- ring lo, ring hi] as int32 little-endian, 7 per entry. Kept in the resident's row
  -- so that the listener reads and writes one row per resident per batch, and take-up
  -- over a date range counts distinct residents exactly from the 64-week rings.
  usage BLOB NOT NULL DEFAULT X''
);

-- The raw visits in resident order, carrying what analytics read: a rebuild streams
-- this covering index (grouped by resident, venue and service) instead of the whole
-- event rows with their payloads, which is several times faster. It also serves the
-- resident-events lookups that events_resident serves.
CREATE INDEX analytics_events_visits ON events (resident_ref, venue_id, service_id, occurred_at)
  WHERE type = 'visit' AND status = 'accepted';

-- The published segments of the latest run, per resident (ids, never refs or names).
CREATE TABLE analytics_segments (
  resident_id INTEGER PRIMARY KEY,
  r INTEGER NOT NULL,
  f INTEGER NOT NULL,
  m INTEGER NOT NULL,
  rfm_segment TEXT NOT NULL,
  cluster INTEGER NOT NULL
);

-- Each segmentation run: the model (standardisation, centroids, descriptions, RFM
-- cut points) as JSON, so incremental updates score new activity the same way.
CREATE TABLE analytics_segment_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  computed_at INTEGER NOT NULL,
  analysis_day INTEGER NOT NULL,
  model TEXT NOT NULL
);
