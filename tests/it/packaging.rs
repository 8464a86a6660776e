//! Install and packaging: `--version` names the commit and the build date; the shell
//! completions the Debian package ships (`packaging/completions/`) are what the binary's
//! own `completions` command prints — regenerate them with
//! `REPORTCTL_UPDATE_COMPLETIONS=1 cargo test --test it packaging::`; every file the
//! package lists exists. The package itself is built, installed and purged by
//! `scripts/package-test.sh` (CI).

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

/// `git rev-parse --short=12 HEAD` in the sources, when git answers.
fn git_head() -> Option<String> {
    let out = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short=12",
            "HEAD",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
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
    // A checkout of its own (.git here) names its commit; other sources say "unknown".
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join(".git").exists();
    match git_head() {
        Some(head) if checkout => assert_eq!(commit, head, "--version names another commit"),
        _ => assert!(checkout || commit == "unknown", "{line:?}"),
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

const COMPLETIONS: &[(&str, &str)] = &[
    ("bash", "reportctl.bash"),
    ("zsh", "_reportctl"),
    ("fish", "reportctl.fish"),
];

#[test]
fn shipped_completions_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/completions");
    let update = std::env::var_os("REPORTCTL_UPDATE_COMPLETIONS").is_some();
    let tmp = tempdir();
    let mut stale = Vec::new();
    for (shell, file) in COMPLETIONS {
        let out = run(tmp.path(), &["completions", shell]);
        assert_eq!(out.code, 0, "{out:?}");
        let path = dir.join(file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &out.stdout).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(out.stdout.as_str()) {
            stale.push(*file);
        }
    }
    assert!(
        stale.is_empty(),
        "completions out of date: {}; run REPORTCTL_UPDATE_COMPLETIONS=1 cargo test --test it packaging::",
        stale.join(", ")
    );
}

/// Every source path of `[package.metadata.deb] assets` exists (globs: at least one
/// file), so `cargo deb` cannot fail on a renamed file.
#[test]
fn deb_assets_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let deb = &manifest["package"]["metadata"]["deb"];
    let assets = deb["assets"].as_array().expect("assets");
    assert!(!assets.is_empty());
    for asset in assets {
        let src = asset
            .get("source")
            .or_else(|| asset.get(0))
            .and_then(|s| s.as_str())
            .expect("an asset's source");
        if src.starts_with("target/") {
            continue; // built by cargo deb
        }
        let found = match src.split_once('*') {
            Some((dir, suffix)) => std::fs::read_dir(root.join(dir))
                .map(|d| {
                    d.flatten()
                        .any(|e| e.file_name().to_string_lossy().ends_with(suffix))
                })
                .unwrap_or(false),
            None => root.join(src).is_file(),
        };
        assert!(found, "package asset {src} is missing");
    }
    for file in ["maintainer-scripts/postinst", "maintainer-scripts/postrm"] {
        assert!(root.join("packaging/debian").join(file).is_file(), "{file}");
    }
}
