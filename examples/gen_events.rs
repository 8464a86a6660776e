//! Generates a large synthetic events data set in the shape of the bundled example
//! (`examples/data/events.sql`), for benchmarks: a SQLite database, or CSV for loading
//! into PostgreSQL with COPY.
//!
//!   cargo run --release --example gen_events -- --rows 2000000 --out bench/events.db
//!   cargo run --release --example gen_events -- --rows 2000000 --csv --out bench/events.csv
//!
//! Rows are spread evenly over `--days` days from `--start` (UTC); values come from the
//! same lists as the example, picked by a hash of the row id, so the output is the same
//! for the same arguments.

use std::io::Write;

use rusqlite::{params, Connection};

const TYPES: [&str; 10] = [
    "view",
    "view",
    "view",
    "view",
    "engagement",
    "engagement",
    "click",
    "click",
    "install",
    "event",
];
const STORYBOARDS: [&str; 4] = ["Welcome", "Renewal", "Upsell", "Onboarding"];
const STATS: [&str; 6] = ["ST-100", "ST-101", "ST-205", "ST-310", "ST-311", "ST-420"];
const TAGS: [&str; 6] = [
    "promo",
    "promo,q4",
    "retention",
    "retention,vip",
    "q4",
    "vip",
];
const NETWORKS: [&str; 5] = [
    "AdNet North",
    "BlueMedia",
    "Clickstream",
    "Delta Ads",
    "Echo Partners",
];
const SITES: [&str; 4] = [
    "news.example",
    "games.example",
    "video.example",
    "shop.example",
];
const CAMPAIGNS: [&str; 4] = [
    "Summer Launch",
    "Back to School",
    "Holiday Push",
    "Always On",
];
const TRACKERS: [&str; 3] = ["trk-01", "trk-02", "trk-03"];
const CREATIVES: [&str; 4] = ["banner-a", "banner-b", "video-15s", "video-30s"];
const SEGMENTS: [&str; 3] = ["new", "returning", "lapsed"];
const COUNTRIES: [&str; 8] = ["us", "us", "ca", "mx", "de", "fr", "in", "au"];
const CITIES: [(&str, [&str; 3]); 7] = [
    ("us", ["New York", "Chicago", "Seattle"]),
    ("ca", ["Toronto", "Montreal", "Vancouver"]),
    ("mx", ["Mexico City", "Monterrey", "Guadalajara"]),
    ("de", ["Berlin", "Munich", "Hamburg"]),
    ("fr", ["Paris", "Lyon", "Nice"]),
    ("in", ["Mumbai", "Delhi", "Bengaluru"]),
    ("au", ["Sydney", "Melbourne", "Perth"]),
];
const OSES: [&str; 4] = ["iOS", "Android", "Windows", "macOS"];
const DEVICES: [&str; 3] = ["phone", "tablet", "desktop"];
const BROWSERS: [&str; 4] = ["Chrome", "Safari", "Firefox", "Edge"];
const EVENTS: [&str; 4] = ["purchase", "add_to_cart", "level_up", "subscribe"];

struct Args {
    rows: u64,
    out: String,
    start: i64,
    days: i64,
    csv: bool,
}

fn usage() -> ! {
    eprintln!("usage: gen_events --rows N --out PATH [--start YYYY-MM-DD] [--days N] [--csv]");
    std::process::exit(2)
}

fn args() -> Args {
    let mut a = Args {
        rows: 0,
        out: String::new(),
        start: 1_780_272_000,
        days: 214,
        csv: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| usage());
        match k.as_str() {
            "--rows" => a.rows = v().parse().unwrap_or_else(|_| usage()),
            "--out" => a.out = v(),
            "--days" => a.days = v().parse().unwrap_or_else(|_| usage()),
            "--start" => {
                let d =
                    chrono::NaiveDate::parse_from_str(&v(), "%Y-%m-%d").unwrap_or_else(|_| usage());
                a.start = d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
            }
            "--csv" => a.csv = true,
            _ => usage(),
        }
    }
    if a.rows == 0 || a.out.is_empty() {
        usage();
    }
    a
}

struct Event {
    id: u64,
    time: String,
    kind: &'static str,
    name: Option<&'static str>,
    fields: [&'static str; 15],
    revenue: Option<f64>,
}

fn event(id: u64, a: &Args) -> Event {
    let r = (id.wrapping_mul(2_654_435_761).wrapping_add(12_345)) % 4_294_967_296;
    let span = a.days * 86_400;
    let t = a.start
        + (((id - 1) as i128 * span as i128) / a.rows as i128) as i64
        + (id * 2_654_435_761 % 307) as i64 % 60;
    let pick = |list: &[&'static str], div: u64| list[((r / div) % list.len() as u64) as usize];
    let kind = pick(&TYPES, 1);
    let ev = pick(&EVENTS, 1_000_003);
    let country = pick(&COUNTRIES, 4_147_200);
    let city =
        CITIES.iter().find(|(c, _)| *c == country).unwrap().1[((r / 33_177_600) % 3) as usize];
    let time = chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    Event {
        id,
        time,
        kind,
        name: (kind == "event").then_some(ev),
        fields: [
            pick(&STORYBOARDS, 10),
            pick(&STATS, 40),
            pick(&TAGS, 240),
            pick(&NETWORKS, 1440),
            pick(&SITES, 7200),
            pick(&CAMPAIGNS, 28_800),
            pick(&TRACKERS, 115_200),
            pick(&CREATIVES, 345_600),
            pick(&SEGMENTS, 1_382_400),
            country,
            city,
            pick(&OSES, 99_532_800),
            pick(&DEVICES, 398_131_200),
            pick(&BROWSERS, 3),
            "",
        ],
        revenue: (kind == "event" && (ev == "purchase" || ev == "subscribe"))
            .then(|| ((0.99 + ((r / 7) % 5000) as f64 / 100.0) * 100.0).round() / 100.0),
    }
}

const COLUMNS: &str = "id, event_time, event_type, event_name, storyboard, statistics_id, tags, network, site, campaign, tracker, creative, segment, country, location, os, device_type, browser, revenue";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args();
    if a.csv {
        let mut w =
            csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(&a.out)?));
        w.write_record(COLUMNS.split(", "))?;
        for id in 1..=a.rows {
            let e = event(id, &a);
            let mut rec = vec![
                e.id.to_string(),
                e.time,
                e.kind.to_string(),
                e.name.unwrap_or("").to_string(),
            ];
            rec.extend(e.fields[..14].iter().map(|s| s.to_string()));
            rec.push(e.revenue.map(|r| r.to_string()).unwrap_or_default());
            w.write_record(&rec)?;
        }
        w.into_inner()?.flush()?;
    } else {
        let _ = std::fs::remove_file(&a.out);
        let mut conn = Connection::open(&a.out)?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE events (
                id INTEGER PRIMARY KEY, event_time TEXT NOT NULL, event_type TEXT NOT NULL,
                event_name TEXT, storyboard TEXT NOT NULL, statistics_id TEXT NOT NULL,
                tags TEXT NOT NULL, network TEXT NOT NULL, site TEXT NOT NULL,
                campaign TEXT NOT NULL, tracker TEXT NOT NULL, creative TEXT NOT NULL,
                segment TEXT NOT NULL, country TEXT NOT NULL, location TEXT NOT NULL,
                os TEXT NOT NULL, device_type TEXT NOT NULL, browser TEXT NOT NULL, revenue REAL);",
        )?;
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare(&format!(
                "INSERT INTO events ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
            ))?;
            for id in 1..=a.rows {
                let e = event(id, &a);
                let f = &e.fields;
                stmt.execute(params![
                    e.id as i64,
                    e.time,
                    e.kind,
                    e.name,
                    f[0],
                    f[1],
                    f[2],
                    f[3],
                    f[4],
                    f[5],
                    f[6],
                    f[7],
                    f[8],
                    f[9],
                    f[10],
                    f[11],
                    f[12],
                    f[13],
                    e.revenue
                ])?;
            }
        }
        tx.commit()?;
        conn.execute_batch("CREATE INDEX events_time ON events (event_time); ANALYZE;")?;
    }
    eprintln!("gen_events: wrote {} rows to {}", a.rows, a.out);
    Ok(())
}
