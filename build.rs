//! Build metadata for `reportctl --version`: the git commit and the build date.
//!
//! - `REPORTCTL_GIT_COMMIT`: the commit checked out (12 hex digits), or "unknown" when
//!   the sources are not a git checkout of their own (a tarball, or a tarball unpacked
//!   inside some other repository) or git is missing.
//! - `REPORTCTL_BUILD_DATE`: the UTC date (YYYY-MM-DD) of `SOURCE_DATE_EPOCH` when it is
//!   set (reproducible builds), else of the day this script ran.
//!
//! The script reruns only when the checked-out commit moves (`.git/HEAD`, the branch's
//! ref, `packed-refs`, those of them that exist) or `SOURCE_DATE_EPOCH` changes, not on every source edit: the
//! date is the date of the build of that commit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let commit = match git_checkout(&dir) {
        Some(files) => {
            for file in files {
                println!("cargo:rerun-if-changed={}", file.display());
            }
            git(&dir, &["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into())
        }
        None => "unknown".into(),
    };
    println!("cargo:rustc-env=REPORTCTL_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=REPORTCTL_BUILD_DATE={}", build_date());
}

/// The files whose change moves HEAD, when `dir` is the top of a git work tree.
fn git_checkout(dir: &Path) -> Option<Vec<PathBuf>> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None; // sources unpacked inside another repository
    }
    let path = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            dir.join(p)
        }
    };
    let git_dir = path(git(dir, &["rev-parse", "--git-dir"])?);
    let common = path(git(dir, &["rev-parse", "--git-common-dir"])?);
    let mut files = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        files.push(common.join(branch));
    }
    // A path that does not exist would make cargo rerun this script at every build.
    files.retain(|f| f.exists());
    Some(files)
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn build_date() -> String {
    let now = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => {
            let secs: i64 = epoch.trim().parse().unwrap_or_else(|_| {
                panic!("SOURCE_DATE_EPOCH={epoch:?} is not a Unix time in seconds")
            });
            chrono::DateTime::from_timestamp(secs, 0)
                .unwrap_or_else(|| panic!("SOURCE_DATE_EPOCH={epoch} is out of range"))
        }
        Err(_) => chrono::Utc::now(),
    };
    now.format("%Y-%m-%d").to_string()
}
