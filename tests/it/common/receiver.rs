//! What the test HTTP receiver (scripts/test-servers/httpd.py) recorded: one JSON
//! object per request (method, path, headers with lower-case names, body, sha256,
//! status, and `signature`, `parts` or `slack` where they apply). Each test puts a
//! random key in its URLs and reads its own requests.

use serde_json::Value;

use super::fixtures::rand_u32;
use super::servers::env;

/// A new random key for a test's URLs, starting with `what`.
pub fn key(what: &str) -> String {
    format!("{what}-{:08x}{:08x}", rand_u32(), rand_u32().rotate_left(7))
}

/// The requests whose path holds `key`, in the order received.
pub fn requests(key: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(env("HTTP", "HTTP_REQUESTS")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["path"].as_str().unwrap().contains(key))
        .collect()
}

/// The JSON body of a recorded request.
pub fn json_body(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().unwrap()).unwrap()
}

/// Asserts that `secret` shows in none of the outputs and none of the ledger's files
/// under `dir` (the database and its journal).
pub fn assert_hidden(secret: &str, dir: &std::path::Path, outputs: &[&super::Output]) {
    for out in outputs {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "the secret shows: {out:?}"
        );
    }
    let state = dir.join(".reportctl");
    for e in std::fs::read_dir(&state).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("ledger") {
            let bytes = std::fs::read(e.path()).unwrap();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "the secret is in {}",
                e.path().display()
            );
        }
    }
}
