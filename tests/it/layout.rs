//! The module graph, read from the `use crate::…` and `super::…` paths of `src/` (test
//! modules left out): the engine's files and the top-level modules form no cycle, and
//! no command imports another command.
//!
//! `config` is left out of the top-level check while its own cycles (with `pgconn`,
//! `render::naming`, `source`, `pickup`) are being broken; once they are, drop it from
//! `NOT_YET_CHECKED`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const NOT_YET_CHECKED: &[&str] = &["config"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text of a file without its test module (from the first `#[cfg(test)]` on).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The first path segment of every name imported from `prefix` (`crate::`, `super::`):
/// `crate::a::b`, and each of `a`, `b` in `crate::{a::x, b}`.
fn imported(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in code.match_indices(prefix) {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 || c != '{' {
                    item.push(c);
                }
            }
            names.insert(first_segment(&item));
        } else {
            names.insert(first_segment(rest));
        }
    }
    names.remove("");
    names.remove("self");
    names
}

fn first_segment(s: &str) -> String {
    s.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// A cycle of `graph`, if it has one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| n == node) {
            let mut found = path[i..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// The top-level module of a file under `src/`: `engine` for `src/engine/runner.rs`.
fn top_module(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn top_level_modules_form_no_cycle() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| top_module(f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = top_module(file);
        if NOT_YET_CHECKED.contains(&from.as_str()) {
            continue;
        }
        let to = graph.entry(from.clone()).or_default();
        for m in imported(&code(file), "crate::") {
            if m != from && modules.contains(&m) && !NOT_YET_CHECKED.contains(&m.as_str()) {
                to.insert(m);
            }
        }
    }
    assert!(graph.contains_key("engine") && graph["engine"].contains("source"));
    assert_eq!(cycle(&graph), None, "a cycle of top-level modules");
}

#[test]
fn the_engine_files_form_no_cycle() {
    let dir = src().join("engine");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let names: BTreeSet<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        if name == "mod" {
            continue; // declares the others
        }
        let text = code(file);
        let used = imported(&text, "super::")
            .into_iter()
            .chain(imported(&text, "crate::engine::"));
        let to = graph.entry(name.clone()).or_default();
        to.extend(used.filter(|m| *m != name && names.contains(m)));
    }
    assert!(graph["runner"].contains("spool"));
    assert_eq!(cycle(&graph), None, "a cycle of files in src/engine/");
}

#[test]
fn no_command_imports_another() {
    let dir = src().join("commands");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let text = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
    // `mod NAME;` lines of commands/mod.rs: the commands, and `output`, shared by them.
    let commands: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .filter(|m| *m != "output")
        .map(str::to_string)
        .collect();
    assert!(commands.contains("run") && commands.contains("send_test"));
    for file in &files {
        let text = code(file);
        let used: BTreeSet<String> = imported(&text, "super::")
            .into_iter()
            .chain(imported(&text, "crate::commands::"))
            .filter(|m| commands.contains(m))
            .collect();
        let name = file.file_stem().unwrap().to_string_lossy();
        if name != "mod" {
            assert!(used.is_empty(), "commands/{name}.rs imports {used:?}");
        }
    }
}

#[test]
fn the_import_reader_reads_groups_and_paths() {
    let code = "use crate::{a::{X, Y}, b, c::d::E};\nlet x = crate::f::g(); // xcrate::h\n";
    let names: Vec<String> = imported(code, "crate::").into_iter().collect();
    assert_eq!(names, ["a", "b", "c", "f"]);
}
