//! S3 delivery against s3s-fs, an S3-compatible server that checks SigV4 signatures
//! (started by scripts/test): objects byte for byte with their content type, multipart
//! uploads of large files in bounded memory, refused credentials named clearly, and
//! presigned links that work for their lifetime and not after.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use crate::common::fixtures::*;
use crate::common::servers::env;

fn object(prefix: &str, name: &str) -> PathBuf {
    PathBuf::from(env("S3", "S3_DATA"))
        .join(env("S3", "S3_BUCKET"))
        .join(prefix)
        .join(name)
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn an_upload_keeps_bytes_and_content_type_and_its_link_returns_the_file() {
    let prefix = format!("plain{:x}/", rand_u32());
    let mut ws = Workspace::new(40);
    ws.secrets(&["S3"]);
    ws.config(&format!(
        "{}{}{}",
        settings(""),
        s3_dest("bucket", &prefix, "sse = \"AES256\""),
        report("Bucket Views", &["bucket"], "")
    ));
    let (out, run) = ws.run_report("Bucket Views");
    assert_eq!(out.code, 0, "{out:?}");
    let name = file_name("Bucket Views");
    assert_eq!(
        std::fs::read(object(&prefix, &name)).unwrap(),
        expected_csv(40)
    );
    let r = receipt(&run, "bucket");
    assert_eq!(
        r["detail"],
        format!("1 file in s3://{}/{prefix}", env("S3", "S3_BUCKET"))
    );
    let link = &r["links"][0];
    assert_eq!(link["file"], name.as_str());
    let url = link["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Expires=1800"), "{url}");
    let (status, body, headers) = http_get(url);
    assert_eq!(status, 200, "{headers}");
    assert_eq!(body, expected_csv(40));
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("content-type: text/csv"),
        "{headers}"
    );

    // The ledger keeps the link: `status` and `history` show it.
    let token = run["token"].as_str().unwrap();
    let shown = ws.run(&["status", token]);
    assert!(
        shown
            .stdout
            .contains(&format!("link:      {name} {url} (expires ")),
        "{shown:?}"
    );
    let history = ws.run(&["--json", "history"]);
    let first: serde_json::Value =
        serde_json::from_str(history.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(receipt(&first, "bucket")["links"][0]["url"], url);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_large_file_goes_up_in_parts_in_bounded_memory() {
    let prefix = format!("multipart{:x}/", rand_u32());
    let mut ws = Workspace::new(0);
    ws.secrets(&["S3"]);
    // A file database: an in-memory one would hold the rows in the process.
    let db = ws.path().join("big.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "create table t(day text, n integer, label text);
         with recursive c(i) as (select 0 union all select i + 1 from c where i + 1 < 700000)
         insert into t select '2026-11-23', i, hex(randomblob(32)) from c;",
    )
    .unwrap();
    drop(conn);
    let toml = format!(
        "{}{}{}",
        settings(""),
        s3_dest(
            "bucket",
            &prefix,
            "multipart_threshold_mb = 8\npart_size_mb = 8"
        ),
        report("Bucket Big", &["bucket"], "")
    )
    .replace("init = [\"events.sql\"]", "path = \"big.db\"");
    ws.config(&toml);
    // Peak memory of the reportctl process, from the kernel's accounting.
    let python = env("S3", "PYTHON");
    let measure = "import resource, subprocess, sys\nr = subprocess.run(sys.argv[1:])\nprint(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let mut cmd = Command::new(python);
    cmd.args(["-c", measure])
        .arg(common::bin())
        .args([
            "--json",
            "run",
            "Bucket Big",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
        ])
        .current_dir(ws.path())
        .env("TZ", "UTC");
    for (k, v) in &ws.env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    let run: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let measured: Vec<u64> = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    assert_eq!(
        measured[0],
        0,
        "{run}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = run["files"][0]["bytes"].as_u64().unwrap();
    assert!(size >= 50 * 1024 * 1024, "{size} bytes");
    // The (debug) binary's own pages and the threads' heaps are 45-51 MB of this peak
    // (45-46 with the C library's allocator, 47-51 with mimalloc); buffering the
    // 58 MB file, or half of it, would add that on top. 64 MiB leaves the run's own
    // noise room and still tells the two apart.
    let peak = measured[1] * 1024;
    assert!(
        peak < 64 * 1024 * 1024,
        "peak memory {peak} bytes for a {size}-byte file"
    );

    let name = file_name("Bucket Big");
    let stored = std::fs::read(object(&prefix, &name)).unwrap();
    assert_eq!(stored.len() as u64, size);
    assert_eq!(sha256(&stored), run["files"][0]["sha256"]);
    // A multipart object's ETag ends in the number of parts.
    let url = receipt(&run, "bucket")["links"][0]["url"].as_str().unwrap();
    let (status, body, headers) = http_get(url);
    assert_eq!(status, 200);
    assert_eq!(sha256(&body), run["files"][0]["sha256"]);
    let parts = size.div_ceil(8 * 1024 * 1024);
    assert!(
        headers.contains(&format!("-{parts}\"")),
        "{parts} parts in the ETag: {headers}"
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_wrong_secret_fails_clearly_and_names_the_destination() {
    let prefix = format!("wrong{:x}/", rand_u32());
    let mut ws = Workspace::new(2);
    ws.secrets(&["S3"]);
    ws.set("T_S3_SECRET", "not-the-secret-key");
    ws.config(&format!(
        "{}{}{}",
        settings(""),
        s3_dest("client_bucket", &prefix, ""),
        report("Bucket Views", &["client_bucket"], "")
    ));
    let (out, run) = ws.run_report("Bucket Views");
    assert_eq!(out.code, 1, "{out:?}");
    let name = file_name("Bucket Views");
    let detail = format!(
        "uploading {name} to s3://{}/{prefix}{name}: PUT: SignatureDoesNotMatch (HTTP 403); \
         the server refused the credentials: check access_key_id and secret_access_key \
         (or the AWS credentials of the environment) and the bucket's permissions",
        env("S3", "S3_BUCKET")
    );
    let r = receipt(&run, "client_bucket");
    assert_eq!(r["status"], "failed");
    assert_eq!(r["detail"], detail.as_str());
    assert!(
        out.stderr
            .contains(&format!("s3 \"client_bucket\": {detail}")),
        "{out:?}"
    );
    assert!(!object(&prefix, &name).exists());
}

/// The link works while valid and is refused after `link_minutes` (this test waits a
/// minute of real time for the server's clock; the other tests run meanwhile).
#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_link_past_its_lifetime_is_refused() {
    let prefix = format!("expiry{:x}/", rand_u32());
    let mut ws = Workspace::new(3);
    ws.secrets(&["S3"]);
    ws.config(&format!(
        "{}{}{}",
        settings(""),
        s3_dest("bucket", &prefix, "link_minutes = 1"),
        report("Bucket Views", &["bucket"], "")
    ));
    let (out, run) = ws.run_report("Bucket Views");
    assert_eq!(out.code, 0, "{out:?}");
    let link = &receipt(&run, "bucket")["links"][0];
    let url = link["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Expires=60"), "{url}");
    assert_eq!(http_get(url).0, 200);
    let expires: chrono::DateTime<chrono::Utc> = link["expires"].as_str().unwrap().parse().unwrap();
    let wait = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(wait + std::time::Duration::from_secs(2));
    let (status, body, _) = http_get(url);
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert!(
        String::from_utf8_lossy(&body).contains("Request has expired"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}
