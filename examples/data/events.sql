-- Example data for reports.example.toml: about 60,000 events from 2026-06-01 to
-- 2026-12-31 (UTC): views and engagement (storyboard, statistics id, tags), clicks,
-- installs and in-app events (network, site, campaign, tracker, creative, segment,
-- country, revenue), with the privacy columns a report can exclude (OS, device type,
-- browser, location).
--
-- Generated deterministically by SQL, so the example needs no setup step. Bigger data
-- sets for benchmarks: `cargo run --release --example gen_events -- --help`.

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    event_time    TEXT NOT NULL,  -- UTC, YYYY-MM-DDTHH:MM:SSZ (compares with :from/:to)
    event_type    TEXT NOT NULL,  -- view, engagement, click, install, event
    event_name    TEXT,           -- in-app event name (event rows)
    storyboard    TEXT NOT NULL,
    statistics_id TEXT NOT NULL,
    tags          TEXT NOT NULL,  -- comma-separated
    network       TEXT NOT NULL,
    site          TEXT NOT NULL,
    campaign      TEXT NOT NULL,
    tracker       TEXT NOT NULL,
    creative      TEXT NOT NULL,
    segment       TEXT NOT NULL,
    country       TEXT NOT NULL,
    location      TEXT NOT NULL,
    os            TEXT NOT NULL,
    device_type   TEXT NOT NULL,
    browser       TEXT NOT NULL,
    revenue       REAL            -- event rows that generate revenue
);

-- 2026-06-01T00:00:00Z is Unix time 1780272000; 214 days to 2027-01-01. Each row's
-- values are picked from fixed lists by bits of a multiplicative hash of its id.
INSERT INTO events
WITH RECURSIVE n(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM n WHERE id < 60000),
h AS (
  SELECT id,
         1780272000 + (id - 1) * 308 + ((id * 2654435761) % 307) AS t,
         (id * 2654435761 + 12345) % 4294967296 AS r
  FROM n
),
v AS (
  SELECT id, t, r,
    CASE r % 10 WHEN 0 THEN 'view' WHEN 1 THEN 'view' WHEN 2 THEN 'view' WHEN 3 THEN 'view' WHEN 4 THEN 'engagement' WHEN 5 THEN 'engagement' WHEN 6 THEN 'click' WHEN 7 THEN 'click' WHEN 8 THEN 'install' WHEN 9 THEN 'event' END AS ty,
    CASE (r / 1000003) % 4 WHEN 0 THEN 'purchase' WHEN 1 THEN 'add_to_cart' WHEN 2 THEN 'level_up' WHEN 3 THEN 'subscribe' END AS ev,
    CASE (r / 4147200) % 8 WHEN 0 THEN 'us' WHEN 1 THEN 'us' WHEN 2 THEN 'ca' WHEN 3 THEN 'mx' WHEN 4 THEN 'de' WHEN 5 THEN 'fr' WHEN 6 THEN 'in' WHEN 7 THEN 'au' END AS co
  FROM h
)
SELECT id, strftime('%Y-%m-%dT%H:%M:%SZ', t, 'unixepoch'), ty,
       CASE WHEN ty = 'event' THEN ev END,
       CASE (r / 10) % 4 WHEN 0 THEN 'Welcome' WHEN 1 THEN 'Renewal' WHEN 2 THEN 'Upsell' WHEN 3 THEN 'Onboarding' END,
       CASE (r / 40) % 6 WHEN 0 THEN 'ST-100' WHEN 1 THEN 'ST-101' WHEN 2 THEN 'ST-205' WHEN 3 THEN 'ST-310' WHEN 4 THEN 'ST-311' WHEN 5 THEN 'ST-420' END,
       CASE (r / 240) % 6 WHEN 0 THEN 'promo' WHEN 1 THEN 'promo,q4' WHEN 2 THEN 'retention' WHEN 3 THEN 'retention,vip' WHEN 4 THEN 'q4' WHEN 5 THEN 'vip' END,
       CASE (r / 1440) % 5 WHEN 0 THEN 'AdNet North' WHEN 1 THEN 'BlueMedia' WHEN 2 THEN 'Clickstream' WHEN 3 THEN 'Delta Ads' WHEN 4 THEN 'Echo Partners' END,
       CASE (r / 7200) % 4 WHEN 0 THEN 'news.example' WHEN 1 THEN 'games.example' WHEN 2 THEN 'video.example' WHEN 3 THEN 'shop.example' END,
       CASE (r / 28800) % 4 WHEN 0 THEN 'Summer Launch' WHEN 1 THEN 'Back to School' WHEN 2 THEN 'Holiday Push' WHEN 3 THEN 'Always On' END,
       CASE (r / 115200) % 3 WHEN 0 THEN 'trk-01' WHEN 1 THEN 'trk-02' WHEN 2 THEN 'trk-03' END,
       CASE (r / 345600) % 4 WHEN 0 THEN 'banner-a' WHEN 1 THEN 'banner-b' WHEN 2 THEN 'video-15s' WHEN 3 THEN 'video-30s' END,
       CASE (r / 1382400) % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'returning' WHEN 2 THEN 'lapsed' END,
       co,
       CASE co WHEN 'us' THEN CASE (r / 33177600) % 3 WHEN 0 THEN 'New York' WHEN 1 THEN 'Chicago' WHEN 2 THEN 'Seattle' END WHEN 'ca' THEN CASE (r / 33177600) % 3 WHEN 0 THEN 'Toronto' WHEN 1 THEN 'Montreal' WHEN 2 THEN 'Vancouver' END WHEN 'mx' THEN CASE (r / 33177600) % 3 WHEN 0 THEN 'Mexico City' WHEN 1 THEN 'Monterrey' WHEN 2 THEN 'Guadalajara' END WHEN 'de' THEN CASE (r / 33177600) % 3 WHEN 0 THEN 'Berlin' WHEN 1 THEN 'Munich' WHEN 2 THEN 'Hamburg' END WHEN 'fr' THEN CASE (r / 33177600) % 3 WHEN 0 THEN 'Paris' WHEN 1 THEN 'Lyon' WHEN 2 THEN 'Nice' END WHEN 'in' THEN CASE (r / 33177600) % 3 WHEN 0 THEN 'Mumbai' WHEN 1 THEN 'Delhi' WHEN 2 THEN 'Bengaluru' END WHEN 'au' THEN CASE (r / 33177600) % 3 WHEN 0 THEN 'Sydney' WHEN 1 THEN 'Melbourne' WHEN 2 THEN 'Perth' END END,
       CASE (r / 99532800) % 4 WHEN 0 THEN 'iOS' WHEN 1 THEN 'Android' WHEN 2 THEN 'Windows' WHEN 3 THEN 'macOS' END,
       CASE (r / 398131200) % 3 WHEN 0 THEN 'phone' WHEN 1 THEN 'tablet' WHEN 2 THEN 'desktop' END,
       CASE (r / 3) % 4 WHEN 0 THEN 'Chrome' WHEN 1 THEN 'Safari' WHEN 2 THEN 'Firefox' WHEN 3 THEN 'Edge' END,
       CASE WHEN ty = 'event' AND ev IN ('purchase', 'subscribe')
            THEN round(0.99 + ((r / 7) % 5000) / 100.0, 2) END
FROM v;

CREATE INDEX events_time ON events (event_time);
