//! The test PostgreSQL server (started by scripts/test-servers/start.sh): connection
//! settings from `RCTL_TEST_PG_*`, and a fresh database per test so that tests never
//! see each other's tables.

use std::path::Path;

use super::servers;

pub struct Pg {
    pub host: String,
    pub port: String,
    pub user: String,
    pub password: String,
    pub ca: String,
}

pub fn server() -> Pg {
    let e = |n| servers::env("PostgreSQL", n);
    Pg {
        host: e("PG_HOST"),
        port: e("PG_PORT"),
        user: e("PG_USER"),
        password: e("PG_PASSWORD"),
        ca: e("PG_CA"),
    }
}

impl Pg {
    /// A URL without the password (it goes in `RCTL_TEST_PG_PASSWORD`).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{}@{}:{}/{db}", self.user, self.host, self.port)
    }

    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Config::new()
            .host(&self.host)
            .port(self.port.parse().unwrap())
            .user(&self.user)
            .password(&self.password)
            .dbname(db)
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL: {e}"))
    }

    /// The bundled example events (SQLite) copied into a PostgreSQL table with real types.
    pub fn load_events(&self, db: &str) {
        let sqlite = rusqlite::Connection::open_in_memory().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/events.sql");
        sqlite
            .execute_batch(&std::fs::read_to_string(script).unwrap())
            .unwrap();
        let mut c = self.client(db);
        c.batch_execute(
            "CREATE TABLE events (
                id bigint PRIMARY KEY, event_time timestamptz NOT NULL, event_type text NOT NULL,
                event_name text, storyboard text NOT NULL, statistics_id text NOT NULL,
                tags text NOT NULL, network text NOT NULL, site text NOT NULL,
                campaign text NOT NULL, tracker text NOT NULL, creative text NOT NULL,
                segment text NOT NULL, country text NOT NULL, location text NOT NULL,
                os text NOT NULL, device_type text NOT NULL, browser text NOT NULL,
                revenue double precision);
             CREATE INDEX events_time ON events (event_time);",
        )
        .unwrap();
        let mut csv = csv::Writer::from_writer(Vec::new());
        let mut stmt = sqlite.prepare("SELECT * FROM events").unwrap();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let fields: Vec<String> = (0..19)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => String::new(),
                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                    rusqlite::types::ValueRef::Real(v) => v.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8(t.to_vec()).unwrap(),
                    rusqlite::types::ValueRef::Blob(_) => unreachable!(),
                })
                .collect();
            csv.write_record(&fields).unwrap();
        }
        let data = csv.into_inner().unwrap();
        let mut w = c
            .copy_in("COPY events FROM STDIN WITH (FORMAT csv)")
            .unwrap();
        std::io::Write::write_all(&mut w, &data).unwrap();
        w.finish().unwrap();
    }

    /// Creates an empty database named after `prefix` (dropped first if it exists).
    pub fn fresh_db(&self, prefix: &str) -> String {
        let name = format!("{prefix}_{}_{:x}", std::process::id(), rand_suffix());
        let mut admin = self.client(&servers::env("PostgreSQL", "PG_DB"));
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        name
    }
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos ^ N.fetch_add(1, Ordering::SeqCst).wrapping_mul(0x9e37_79b9)
}

/// A CA certificate (made with openssl) that did not sign the test server's one.
pub fn other_ca(dir: &std::path::Path) -> std::path::PathBuf {
    let (key, pem) = (dir.join("other-ca.key"), dir.join("other-ca.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args([
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=some other CA",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&pem)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pem
}
