//! The configuration's JSON Schema (`reportctl.schema.json`, for editors) is generated
//! from the raw structs; this test fails when the committed file is stale. Regenerate
//! with `REPORTCTL_UPDATE_SCHEMA=1 cargo test --test it schema::`.

use std::path::Path;

#[test]
fn the_json_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reportctl.schema.json");
    let fresh = reportctl::config::raw::schema::json();
    if std::env::var_os("REPORTCTL_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "reportctl.schema.json is stale: regenerate it with REPORTCTL_UPDATE_SCHEMA=1 cargo test --test it schema::"
    );
}

/// The example configuration and a starter file follow the schema, and a misspelt key
/// does not, as Python's `jsonschema` (an independent validator) sees them.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn real_configurations_follow_the_schema() {
    let python = crate::common::servers::env("SMTP", "PYTHON");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let check = r#"
import datetime, json, sys, tomllib, jsonschema
schema = json.load(open(sys.argv[1]))
def plain(x):
    if isinstance(x, dict): return {k: plain(v) for k, v in x.items()}
    if isinstance(x, list): return [plain(v) for v in x]
    if isinstance(x, (datetime.date, datetime.time, datetime.datetime)): return x.isoformat()
    return x
for f in sys.argv[2:]:
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(plain(tomllib.load(open(f, "rb")))))
    print(f"{f}: {len(errors)}", *[e.message for e in errors], sep="\n  ")
"#;
    let dir = crate::common::tempdir();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[settings]\ntimezon = \"UTC\"\n").unwrap();
    let example = root.join("reports.example.toml");
    let out = std::process::Command::new(python)
        .args(["-c", check])
        .arg(root.join("reportctl.schema.json"))
        .arg(&example)
        .arg(&bad)
        .output()
        .expect("python with jsonschema (scripts/install-test-deps.sh)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("{}: 0", example.display()), "{text}");
    assert_eq!(lines[1], format!("{}: 1", bad.display()), "{text}");
}
