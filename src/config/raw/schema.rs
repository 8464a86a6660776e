//! The configuration's JSON Schema, for editors (completion and checking as one types):
//! derived from the raw structs the reader fills, so that it names exactly the keys
//! the reader accepts. The checker's rules (allowed words, ranges, what goes with
//! what) stay with `validate`.

use std::collections::BTreeMap;

use super::*;

/// A reportctl configuration file (or one file of a configuration directory).
#[derive(schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct ConfigFile {
    settings: Option<RawSettings>,
    sources: Option<BTreeMap<String, Source>>,
    destinations: Option<BTreeMap<String, Destination>>,
    reports: Option<Vec<RawReport>>,
    serve: Option<RawServe>,
}

/// A data source, by `kind`.
#[derive(schemars::JsonSchema)]
#[schemars(tag = "kind", rename_all = "lowercase")]
#[allow(dead_code, clippy::large_enum_variant)]
enum Source {
    Sqlite(RawSqliteSource),
    Postgres(RawPostgresSource),
    Command(RawCommandSource),
}

/// A destination, by `kind`.
#[derive(schemars::JsonSchema)]
#[schemars(tag = "kind", rename_all = "lowercase")]
#[allow(dead_code, clippy::large_enum_variant)]
enum Destination {
    Directory(RawDirectoryDest),
    Email(RawEmailDest),
    Sftp(RawSftpDest),
    S3(RawS3Dest),
    Pickup(RawPickupDest),
    Webhook(RawWebhookDest),
    Slack(RawSlackDest),
    Teams(RawTeamsDest),
}

/// The schema as pretty-printed JSON, ending in a newline.
pub fn json() -> String {
    let schema = schemars::schema_for!(ConfigFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}
