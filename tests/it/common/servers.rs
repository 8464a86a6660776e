//! The real servers the integration tests talk to, started by `scripts/test` (through
//! `scripts/test-servers/start.sh`), which exports their addresses and credentials as
//! `RCTL_TEST_*` variables. A test that needs a server and does not find it fails and
//! says which server and how to start it: it never skips quietly.

/// The value of `RCTL_TEST_<name>` for the `server` a test needs.
pub fn env(server: &str, name: &str) -> String {
    let var = format!("RCTL_TEST_{name}");
    match std::env::var(&var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "the {server} test server is not running ({var} is not set): run the tests with scripts/test, \
             which starts it, or start it by hand with scripts/test-servers/start.sh DIR {} and source DIR/servers.env",
            start_name(server)
        ),
    }
}

/// The name `scripts/test-servers/start.sh` knows `server` by.
fn start_name(server: &str) -> &'static str {
    match server {
        "SFTP" => "sshd",
        "SMTP" => "smtp",
        "S3" => "s3",
        "HTTP" => "http",
        _ => "postgres",
    }
}
