//! A `reportctl serve` over a pickup store, for the tests that hold connections to it
//! (serve_stall, promises_io): the store, the running server with its log collected.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};

use super::{command, run, tempdir, write};

pub const API_KEY: &str = "stall-api-key-41c9";
pub const LINK_SECRET: &str = "stall-link-secret-0123456789abcdef0123456789";

/// A pickup store with one report of about `kib` KiB, served with the `[serve]` settings
/// `extra`.
pub fn pickup_store(kib: u32, extra: &str) -> tempfile::TempDir {
    let dir = tempdir();
    write(dir.path(), "init.sql", "create table t(x);\n");
    let rows = kib * 1024 / 100;
    write(
        dir.path(),
        "reports.toml",
        &format!(
            r#"[settings]
timezone = "UTC"

[sources.gen]
kind = "sqlite"
init = ["init.sql"]

[destinations.api]
kind = "pickup"
path = "store"

[serve]
api_key = {{ env = "T_API_KEY" }}
link_secret = {{ env = "T_LINK_SECRET" }}
{extra}

[[reports]]
name = "Big Export"
type = "ROWS"
source = "gen"
destinations = ["api"]
query = """
with recursive n(i) as (select 1 union all select i + 1 from n where i < {rows})
select i, printf('%090d', i) as pad from n
"""
[reports.schedule]
frequency = "daily"
"#
        ),
    );
    let out = run(dir.path(), &["run", "Big Export"]);
    assert_eq!(out.code, 0, "{out:?}");
    dir
}

/// A running `reportctl serve` on 127.0.0.1 with a free port; its stderr is collected.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(dir: &Path) -> Server {
        let mut child = command(dir, &["serve", "--listen", "127.0.0.1:0"])
            .env("T_API_KEY", API_KEY)
            .env("T_LINK_SECRET", LINK_SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start reportctl serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().expect("serve says where it listens").unwrap();
        let addr = first
            .split("listening on http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .parse()
            .unwrap();
        let log = Arc::new(Mutex::new(vec![first]));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Server { child, addr, log }
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
