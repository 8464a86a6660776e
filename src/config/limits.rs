//! Limits and defaults of the configuration in one table: for every number a key takes,
//! its allowed range, its value when the key is absent and the unit its messages name;
//! then the default paths, addresses and names. The checkers read them from here (the
//! messages that state a range are built from the same constants) and the model's
//! defaults come from here, so a limit is changed in one place.

use crate::schedule::Frequency;

/// An integer key: allowed from `min` to `max`, `default` when absent; `unit` follows
/// the range in messages ("allowed: 1 to 3650 days").
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub min: i64,
    pub max: i64,
    pub default: i64,
    pub unit: &'static str,
}

impl Limit {
    pub const fn range(self) -> (i64, i64) {
        (self.min, self.max)
    }

    /// The same range and unit with another default (a report's `max_attempts`
    /// defaults to the settings' value).
    pub const fn with_default(self, default: i64) -> Limit {
        Limit { default, ..self }
    }
}

const fn limit(min: i64, max: i64, default: i64, unit: &'static str) -> Limit {
    Limit {
        min,
        max,
        default,
        unit,
    }
}

/// A key counted in seconds.
const fn seconds(min: i64, max: i64, default: i64) -> Limit {
    limit(min, max, default, " seconds")
}

const fn port(default: i64) -> Limit {
    limit(1, 65_535, default, "")
}

// ----- [settings] -----
/// 400 days: a year of history and a month to spare, for year-on-year questions; 0
/// keeps every run.
pub const KEEP_RUNS_DAYS: Limit = limit(0, 36_600, 400, " days");
pub const SPOOL_KEEP_DAYS: Limit = limit(1, 3660, 7, " days");
pub const MAX_RANGE_DAYS: Limit = limit(1, 3660, 90, " days");
pub const CATCH_UP: Limit = limit(1, 1000, 24, " slots");
pub const LEASE: Limit = seconds(2, 86_400, 600);
/// Runs `run-due` executes at once: 4 keeps a 2-core host responsive while a slow
/// source no longer holds up the other reports.
pub const MAX_PARALLEL: Limit = limit(1, 256, 4, " runs");
/// `[sources.X] max_concurrent_queries` and `[destinations.X] max_concurrent`: absent
/// means no limit beyond `max_parallel` (the default here is never used).
pub const MAX_CONCURRENT: Limit = limit(1, 256, 256, "");
pub const LOCK_TIMEOUT: Limit = seconds(0, 3600, 60);
/// Also a report's `max_attempts`, which defaults to the settings' value.
pub const MAX_ATTEMPTS: Limit = limit(1, 100, 5, "");
pub const RETRY_DELAY: Limit = seconds(0, 86_400, 60);
pub const DELIVERY_RETRIES: Limit = limit(0, 10, 2, " retries");
pub const DELIVERY_BACKOFF: Limit = seconds(0, 300, 5);
/// How long after its time a slot may still be running before `check` calls it late:
/// longer than a run-due interval (5 minutes) plus a slow run and a retry or two,
/// short enough that a dead cron job is seen within the hour.
pub const CHECK_GRACE: Limit = limit(0, 10_080, 30, " minutes");

// ----- SMTP servers ([settings.smtp], an email destination's `smtp`) -----
pub const SMTP_STARTTLS_PORT: Limit = port(587);
pub const SMTP_TLS_PORT: Limit = port(465);
pub const SMTP_PLAIN_PORT: Limit = port(25);
pub const SMTP_TIMEOUT: Limit = seconds(1, 600, 60);

// ----- sources -----
pub const SQLITE_BUSY_TIMEOUT_MS: Limit = limit(0, 600_000, 5000, " milliseconds");
pub const POSTGRES_PORT: Limit = port(5432);
pub const POSTGRES_CONNECT_TIMEOUT: Limit = seconds(1, 600, 10);
pub const POSTGRES_STATEMENT_TIMEOUT: Limit = seconds(1, 604_800, 3600);
pub const COMMAND_TIMEOUT: Limit = seconds(1, 86_400, 3600);

// ----- destinations -----
/// A directory's and a pickup store's `keep_days`.
pub const KEEP_DAYS: Limit = limit(1, 3650, 7, " days");
pub const SFTP_PORT: Limit = port(22);
pub const SFTP_CONNECT_TIMEOUT: Limit = seconds(1, 600, 30);
pub const SFTP_IO_TIMEOUT: Limit = seconds(1, 3600, 300);
pub const S3_PART_SIZE_MB: Limit = limit(5, 5120, 16, " MB");
pub const S3_MULTIPART_THRESHOLD_MB: Limit = limit(5, 5120, 64, " MB");
pub const S3_LINK_MINUTES: Limit = limit(1, 10_080, 30, " minutes");
// ----- webhook, slack and teams destinations -----
pub const HTTP_TIMEOUT: Limit = seconds(1, 600, 30);
pub const WEBHOOK_MAX_UPLOAD_MB: Limit = limit(1, 1000, 25, " MB");
pub const DEFAULT_SLACK_API: &str = "https://slack.com/api";
/// An email's `max_attachment_mb`: more than 0, up to this.
pub const MAX_ATTACHMENT_MB: f64 = 1000.0;
pub const DEFAULT_ATTACHMENT_MB: f64 = 10.0;
/// An email's `preview_rows`: the rows of each file shown in the mail's HTML part; 0
/// sends the plain-text mail only. A mail body is not a file viewer: 100 at most.
pub const PREVIEW_ROWS: Limit = limit(0, 100, 10, " rows");

// ----- [serve] -----
pub const SERVE_LINK_MINUTES: Limit = limit(1, 1440, 30, " minutes");
pub const SERVE_REQUEST_TIMEOUT: Limit = seconds(1, 3600, 30);
pub const SERVE_MAX_REQUEST_BYTES: Limit = limit(8192, 1_048_576, 16_384, " bytes");
pub const SERVE_MAX_CONNECTIONS: Limit = limit(1, 100_000, 1024, "");
pub const SERVE_MAX_CONNECTIONS_PER_CLIENT: Limit = limit(1, 100_000, 64, "");
pub const SERVE_SEND_TIMEOUT: Limit = seconds(1, 3600, 30);
pub const SERVE_IDLE_TIMEOUT: Limit = seconds(1, 3600, 10);
pub const SERVE_SHUTDOWN_GRACE: Limit = seconds(0, 3600, 30);
/// The shortest `link_secret` accepted, in bytes: shorter HMAC keys can be guessed.
pub const MIN_LINK_SECRET: usize = 32;

// ----- reports -----
/// `parquet.row_group_rows`: DuckDB writes groups of 122,880 rows, pyarrow of up to a
/// million; 100,000 keeps a group of a wide report within tens of megabytes.
pub const PARQUET_ROW_GROUP_ROWS: Limit = limit(1, 10_000_000, 100_000, " rows");
/// Limits per frequency: (run_on range, run_on default, run_on meaning,
/// delay range, previous_time range, delay unit, previous_time unit).
pub struct ScheduleLimits {
    pub run_on: (i64, i64),
    pub run_on_default: i64,
    pub run_on_is: &'static str,
    pub delay: (i64, i64),
    pub previous: (i64, i64),
    pub delay_unit: &'static str,
    pub previous_unit: &'static str,
}

pub fn schedule(f: Frequency) -> ScheduleLimits {
    match f {
        Frequency::Hourly => ScheduleLimits {
            run_on: (0, 59),
            run_on_default: 0,
            run_on_is: "the minute of the hour",
            delay: (0, 1440),
            previous: (1, 1440),
            delay_unit: "minutes",
            previous_unit: "minutes",
        },
        Frequency::Daily => ScheduleLimits {
            run_on: (0, 23),
            run_on_default: 6,
            run_on_is: "the hour of the day",
            delay: (0, 168),
            previous: (1, 2208),
            delay_unit: "hours",
            previous_unit: "hours",
        },
        Frequency::Weekly => ScheduleLimits {
            run_on: (1, 7),
            run_on_default: 1,
            run_on_is: "the ISO weekday, 1 = Monday … 7 = Sunday",
            delay: (0, 31),
            previous: (1, 92),
            delay_unit: "days",
            previous_unit: "days",
        },
        Frequency::Monthly => ScheduleLimits {
            run_on: (1, 31),
            run_on_default: 1,
            run_on_is: "the day of the month, clamped to the month's last day",
            delay: (0, 31),
            previous: (1, 12),
            delay_unit: "days",
            previous_unit: "months",
        },
        Frequency::Quarterly => ScheduleLimits {
            run_on: (1, 31),
            run_on_default: 1,
            run_on_is: "the day of the quarter's first month, clamped to its last day",
            delay: (0, 92),
            previous: (1, 4),
            delay_unit: "days",
            previous_unit: "quarters",
        },
    }
}

/// A recurring schedule's `every` (its unit names the frequency).
pub const EVERY: Limit = limit(1, 6, 1, "");
/// A structured output's `row_limit` and `cardinality_limit`.
pub const OUTPUT_ROWS: Limit = limit(1, 1_000_000_000, 1, "");
/// CSV `compress_above_mb`: more than 0, up to this.
pub const MAX_COMPRESS_ABOVE_MB: f64 = 1_048_576.0;

// ----- default places, names and texts -----
/// An email destination's `subject` when none is given.
pub const DEFAULT_SUBJECT: &str = "{name}: {from} to {to}";
/// An email destination's `body` when none is given, and the body sent when the
/// configured one renders blank.
pub const DEFAULT_BODY: &str =
    "Report {name} for {window}.\n\nFiles: {files}\nRows: {rows}\nToken: {token}\n";
pub const DEFAULT_LEDGER: &str = ".reportctl/ledger.sqlite";
pub const DEFAULT_SPOOL: &str = ".reportctl/spool";
pub const DEFAULT_PICKUP: &str = ".reportctl/pickup";
pub const DEFAULT_KNOWN_HOSTS: &str = "~/.ssh/known_hosts";
pub const DEFAULT_S3_REGION: &str = "us-east-1";
pub const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 8080);
