//! The shape of the code: which modules use which. Every `src/` file is a module; a
//! module depends on each module it names through `crate::…` or `super::…` paths, in
//! `use` lines (groups included) or in code, tests left out. A dependency between a
//! module and one of its ancestors does not count (a parent and its child are one unit). The modules
//! must form no cycle, nor the areas (top-level modules) taken whole: a cycle means
//! parts that cannot be understood, tested or changed apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Cycles allowed for now, each written as the sorted members of one strongly connected
/// component: none. A cycle someone must allow while taking it apart goes here; the
/// tests fail on any other cycle, and on a listed one that is gone or has changed.
const KNOWN_MODULE_CYCLES: &[&str] = &[];
const KNOWN_AREA_CYCLES: &[&str] = &[];

/// Between modules (files): no module reaches itself through others.
#[test]
fn the_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = Graph::read(&src);
    assert!(
        graph.modules.len() > 50,
        "read {} modules",
        graph.modules.len()
    );
    check(&graph, KNOWN_MODULE_CYCLES);
}

/// Between areas (top-level modules: `config`, `ledger`, `render`, …): the same,
/// each area taken whole.
#[test]
fn the_areas_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    check(&Graph::read(&src).areas(), KNOWN_AREA_CYCLES);
}

/// Commands are thin and independent: none imports another (what they share lives in
/// the engine, or in `commands::output` and `commands` itself).
#[test]
fn no_command_imports_another() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = Graph::read(&src);
    let command = |m: &str| {
        m.strip_prefix("commands::")
            .is_some_and(|c| !c.contains("::") && c != "output")
    };
    assert!(graph.modules.keys().filter(|m| command(m)).count() >= 8);
    let mut wrong = Vec::new();
    for (m, uses) in graph.modules.iter().filter(|(m, _)| command(m)) {
        for u in uses.iter().filter(|u| command(u)) {
            let at = &graph.reasons[&(m.clone(), u.clone())];
            wrong.push(format!("{m} -> {u} ({at})"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

fn check(graph: &Graph, known: &[&str]) {
    let cycles: BTreeSet<String> = graph.cycles().into_iter().map(|c| c.join(" ")).collect();
    let known: BTreeSet<String> = known.iter().map(|s| s.to_string()).collect();
    let mut why = String::new();
    for c in cycles.difference(&known) {
        why.push_str(&format!("\n  cycle: {c}\n{}", graph.explain(c)));
    }
    for c in known.difference(&cycles) {
        why.push_str(&format!("\n  listed but not found (update the list): {c}"));
    }
    assert!(why.is_empty(), "{why}");
}

/// The analysis itself must find what it is meant to find.
#[test]
fn cycles_are_found_through_use_groups_paths_and_super() {
    let dir = crate::common::tempdir();
    let src = dir.path();
    let write = |p: &str, text: &str| {
        let path = src.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n");
    write("a/mod.rs", "pub mod inner;\nuse crate::b::{self, thing};\n");
    write(
        "a/inner.rs",
        "use super::super::c::X;\n// crate::b is only a comment\n",
    );
    write("b.rs", "pub fn f() { crate::a::inner::g(); }\n");
    write(
        "c.rs",
        "pub struct X;\n#[cfg(test)]\nmod tests {\n    use crate::a;\n}\n",
    );
    write("tests.rs", "use crate::a;\nuse crate::c;\n");
    // a -> b -> a::inner: no module cycle (a and a::inner are one unit), but the
    // areas a and b use each other.
    let graph = Graph::read(src);
    assert_eq!(graph.cycles(), Vec::<Vec<String>>::new());
    assert_eq!(
        graph.areas().cycles(),
        vec![vec!["a".to_string(), "b".into()]]
    );
    // c -> a closes a -> b -> a::inner -> c.
    write("c.rs", "use crate::a;\npub struct X;\n");
    let graph = Graph::read(src);
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(graph.cycles(), vec![names(&["a", "a::inner", "b", "c"])]);
    assert_eq!(graph.areas().cycles(), vec![names(&["a", "b", "c"])]);
}

struct Graph {
    /// Module path ("config::check::report") to the modules it uses.
    modules: BTreeMap<String, BTreeSet<String>>,
    /// Why an edge exists: the file and line that names the target.
    reasons: BTreeMap<(String, String), String>,
}

impl Graph {
    fn read(src: &Path) -> Graph {
        let mut files = Vec::new();
        collect(src, &mut files);
        let mut modules: BTreeMap<String, BTreeSet<String>> = files
            .iter()
            .filter_map(|f| module_of(src, f))
            .map(|m| (m, BTreeSet::new()))
            .collect();
        let names: BTreeSet<String> = modules.keys().cloned().collect();
        let mut reasons = BTreeMap::new();
        for file in &files {
            let Some(module) = module_of(src, file) else {
                continue;
            };
            if is_test_only(src, file) {
                continue;
            }
            // The code without its comments, lines kept (a `use` group spans lines), up
            // to its test module: what tests use is not part of the design.
            let code: String = std::fs::read_to_string(file)
                .unwrap()
                .lines()
                .take_while(|l| l.trim() != "#[cfg(test)]")
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            for (path, offset) in paths_in(&code, &module) {
                let Some(target) = longest_module(&names, &path) else {
                    continue;
                };
                if related(&module, &target) {
                    continue;
                }
                modules.get_mut(&module).unwrap().insert(target.clone());
                let line = code[..offset].matches('\n').count() + 1;
                let at = format!("{}:{line}", file.strip_prefix(src).unwrap().display());
                reasons.entry((module.clone(), target)).or_insert(at);
            }
        }
        Graph { modules, reasons }
    }

    /// The same dependencies between areas: each module counted as its top-level
    /// module (`config::check::report` is `config`).
    fn areas(&self) -> Graph {
        let area = |m: &str| m.split("::").next().unwrap_or("").to_string();
        let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut reasons = BTreeMap::new();
        for (from, tos) in &self.modules {
            let a = area(from);
            modules.entry(a.clone()).or_default();
            for to in tos {
                let b = area(to);
                if a != b && !a.is_empty() && !b.is_empty() {
                    modules.get_mut(&a).unwrap().insert(b.clone());
                    let at = &self.reasons[&(from.clone(), to.clone())];
                    reasons.entry((a.clone(), b)).or_insert_with(|| at.clone());
                }
            }
        }
        Graph { modules, reasons }
    }

    /// The strongly connected components of more than one module (Tarjan), each sorted.
    fn cycles(&self) -> Vec<Vec<String>> {
        struct State<'g> {
            g: &'g BTreeMap<String, BTreeSet<String>>,
            index: BTreeMap<&'g str, usize>,
            low: BTreeMap<&'g str, usize>,
            stack: Vec<&'g str>,
            on_stack: BTreeSet<&'g str>,
            out: Vec<Vec<String>>,
        }
        fn visit<'g>(s: &mut State<'g>, v: &'g str) {
            let i = s.index.len();
            s.index.insert(v, i);
            s.low.insert(v, i);
            s.stack.push(v);
            s.on_stack.insert(v);
            for w in &s.g[v] {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if s.low[v] == s.index[v] {
                let mut component = Vec::new();
                while let Some(w) = s.stack.pop() {
                    s.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    s.out.push(component);
                }
            }
        }
        let mut s = State {
            g: &self.modules,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            out: Vec::new(),
        };
        for v in self.modules.keys() {
            if !s.index.contains_key(v.as_str()) {
                visit(&mut s, v);
            }
        }
        s.out
    }

    /// The edges inside one cycle, with where each comes from.
    fn explain(&self, cycle: &str) -> String {
        let members: BTreeSet<&str> = cycle.split(' ').collect();
        let mut out = String::new();
        for ((from, to), at) in &self.reasons {
            if members.contains(from.as_str()) && members.contains(to.as_str()) {
                out.push_str(&format!("    {from} -> {to} ({at})\n"));
            }
        }
        out
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file that holds only tests: `tests.rs`, or anything under a `tests/` folder.
fn is_test_only(src: &Path, file: &Path) -> bool {
    let rel = file.strip_prefix(src).unwrap();
    rel.file_stem().is_some_and(|s| s == "tests")
        || rel.components().any(|c| c.as_os_str() == "tests")
}

/// `config/check/report.rs` -> `config::check::report`; `config/mod.rs` -> `config`;
/// `lib.rs` -> `` (the crate); `main.rs` (the binary) -> none.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?.with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [only] if only == "main" => None,
        [only] if only == "lib" => Some(String::new()),
        [dirs @ .., last] if last == "mod" => Some(dirs.join("::")),
        all => Some(all.join("::")),
    }
}

/// Every absolute module path named in the code of `module`, with where it starts:
/// `crate::a::b`, `super::x` (made absolute), and each branch of a `{…}` group after
/// either.
fn paths_in(code: &str, module: &str) -> Vec<(Vec<String>, usize)> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        let starts_word =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || b"_:$".contains(&bytes[i - 1]));
        let base: Option<(Vec<String>, usize)> = if starts_word && rest.starts_with("crate::") {
            Some((Vec::new(), "crate::".len()))
        } else if starts_word && rest.starts_with("super::") {
            let mut base: Vec<String> = module
                .split("::")
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect();
            let mut len = 0;
            while rest[len..].starts_with("super::") {
                base.pop();
                len += "super::".len();
            }
            Some((base, len))
        } else {
            None
        };
        match base {
            Some((base, len)) => {
                let mut out = Vec::new();
                let used = tree(&rest[len..], &base, &mut out);
                found.extend(out.into_iter().map(|p| (p, i)));
                i += len + used.max(1);
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    found
}

/// Reads a path (or a `{…}` group of paths) after `prefix`; pushes each full path;
/// returns the bytes read.
fn tree(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix.to_vec();
    let mut i = 0;
    loop {
        let ident: String = text[i..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        i += ident.len();
        if !ident.is_empty() && ident != "self" {
            path.push(ident);
        }
        if text[i..].starts_with("::{") {
            i += 3;
            loop {
                let skip = text[i..].len() - text[i..].trim_start().len();
                i += skip;
                if text[i..].starts_with('}') || i >= text.len() {
                    return i + 1;
                }
                i += tree(&text[i..], &path, out);
                let skip = text[i..].len() - text[i..].trim_start().len();
                i += skip;
                if text[i..].starts_with(',') {
                    i += 1;
                }
            }
        } else if text[i..].starts_with("::") {
            i += 2;
        } else {
            out.push(path);
            return i;
        }
    }
}

/// The longest module that `path` starts with.
fn longest_module(modules: &BTreeSet<String>, path: &[String]) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| modules.contains(m))
}

/// Whether one module is the other or an ancestor of it.
fn related(a: &str, b: &str) -> bool {
    let within = |inner: &str, outer: &str| {
        outer.is_empty() || inner == outer || inner.starts_with(&format!("{outer}::"))
    };
    within(a, b) || within(b, a)
}
