//! The man pages in `man/` are generated from the clap definition; this test fails when
//! they are stale. Regenerate with `REPORTCTL_UPDATE_MAN=1 cargo test --test it man::`.

use std::path::Path;

#[test]
fn man_pages_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages = reportctl::cli::man::pages();
    let update = std::env::var_os("REPORTCTL_UPDATE_MAN").is_some();
    let mut stale = Vec::new();
    for (name, text) in &pages {
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, text).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(text.as_slice()) {
            stale.push(name.clone());
        }
    }
    let expected: Vec<_> = pages.iter().map(|(n, _)| n.clone()).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if !expected.contains(&name) {
            if update {
                std::fs::remove_file(dir.join(&name)).unwrap();
            } else {
                stale.push(format!("{name} (no longer generated)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "man pages out of date: {}; run REPORTCTL_UPDATE_MAN=1 cargo test --test it man::",
        stale.join(", ")
    );
}
