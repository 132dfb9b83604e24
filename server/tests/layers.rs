//! The layering of `server/src` (see `lib.rs`): no import cycle between its modules, and the
//! lower layers never reach up. Read from the source, so a new `use` that breaks it fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its code (not its comments) names as `crate::x`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap().with_extension("");
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .to_string();
            if top == "lib" || top == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let deps = graph.entry(top.clone()).or_default();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let name: String = line[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != top {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    graph
}

fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(n) = todo.pop() {
        for d in graph.get(&n).into_iter().flatten() {
            if d == to {
                return true;
            }
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    false
}

#[test]
fn no_module_imports_itself_through_others() {
    let graph = graph();
    for module in graph.keys() {
        assert!(
            !reaches(&graph, module, module),
            "{module} is part of an import cycle: {graph:#?}"
        );
    }
}

#[test]
fn lower_layers_never_reach_up() {
    let graph = graph();
    let upper = ["routes", "authn", "middleware", "startup", "cli", "service"];
    for lower in [
        "store",
        "policy",
        "rules",
        "token",
        "gcra",
        "principal",
        "clock",
        "cache",
        "budget",
        "bus",
        "touches",
        "purge",
        "state",
    ] {
        for up in upper {
            if lower == "state" && up == "service" {
                continue;
            }
            assert!(!reaches(&graph, lower, up), "{lower} reaches up to {up}");
        }
    }
    // Handlers parse, call a service and map its answer: they never touch the store.
    assert!(
        !graph["routes"].contains("store"),
        "routes import the store directly"
    );
    assert!(
        !graph["cli"].contains("store"),
        "the CLI imports the store directly"
    );
    for domain in ["policy", "rules", "token", "gcra", "principal"] {
        for io in ["store", "state", "error", "extract"] {
            assert!(
                !reaches(&graph, domain, io),
                "the pure module {domain} reaches {io}"
            );
        }
    }
}
