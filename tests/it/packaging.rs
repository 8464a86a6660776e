//! Install and packaging: `--version` names the commit and the build date.

use std::path::Path;
use std::process::Command;

use crate::common::{run, tempdir};

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// The commit git reports for the sources, when they are a git checkout of their own.
fn git_commit() -> Option<String> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let same = Path::new(&top).canonicalize().ok()? == Path::new(dir).canonicalize().ok()?;
    same.then(|| git(&["rev-parse", "--short=12", "HEAD"]))?
}

#[test]
fn version_names_commit_and_build_date() {
    let dir = tempdir();
    let out = run(dir.path(), &["--version"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "");
    let version = env!("CARGO_PKG_VERSION");
    let line = out.stdout.strip_suffix('\n').expect("one line");
    let rest = line
        .strip_prefix(&format!("reportctl {version} (commit "))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected --version: {line:?}"));
    let (commit, date) = rest
        .split_once(", built ")
        .unwrap_or_else(|| panic!("no build date in {line:?}"));
    assert!(is_date(date), "build date {date:?} is not YYYY-MM-DD");
    match git_commit() {
        Some(head) => assert_eq!(commit, head, "--version names another commit"),
        None => assert_eq!(commit, "unknown"),
    }

    // -V and the subcommands' --version: the version alone / the same long line.
    let short = run(dir.path(), &["-V"]);
    assert_eq!(short.stdout, format!("reportctl {version}\n"));
    let sub = run(dir.path(), &["run-due", "--version"]);
    assert_eq!(sub.code, 0, "{sub:?}");
    assert!(
        sub.stdout
            .contains(&format!("{version} (commit {commit}, built ")),
        "{sub:?}"
    );
}
