//! The start order of the scanner's services as a graph: `after : NAME...`
//! and `requires : NAME...` are edges from a service to what it needs
//! first. Pure: the cycles of a file, for [`super::plan`] to refuse it, and
//! the edges the other way round (who needs a service, who requires it), for
//! [`super::machine`] to find the services an event may move, without
//! looking at the others. Nothing here recurses: a chain of any length is
//! walked with a stack of its own.

use std::collections::HashMap;

use super::plan::ServiceSpec;

/// The cycles among `nodes` (each a name and the names it needs), each as
/// the path that closes it, `[a, b, c, a]`: one per edge that closes a
/// cycle in a depth-first walk from the nodes in their order, so each cycle
/// of a file with a few is printed once. Names that are not nodes are
/// ignored.
pub fn cycles<'a>(nodes: &[(&'a str, Vec<&'a str>)]) -> Vec<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.0, i)).collect();
    let mut mark = vec![Mark::New; nodes.len()];
    let mut found = Vec::new();
    for root in 0..nodes.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // The walk's path: each node with the position of its next edge.
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::OnPath;
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            let Some(&to) = nodes[node].1.get(*next) else {
                mark[node] = Mark::Done;
                path.pop();
                continue;
            };
            *next += 1;
            let Some(&to) = index.get(to) else { continue };
            match mark[to] {
                Mark::New => {
                    mark[to] = Mark::OnPath;
                    path.push((to, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|&(n, _)| n == to).unwrap_or(0);
                    let mut cycle: Vec<&str> =
                        path[from..].iter().map(|&(n, _)| nodes[n].0).collect();
                    cycle.push(nodes[to].0);
                    found.push(cycle);
                }
                Mark::Done => {}
            }
        }
    }
    found
}

/// A cycle as an operator reads it, `a -> b -> c -> a`; a long one keeps
/// its first five and last four names.
pub fn describe(cycle: &[&str]) -> String {
    const HEAD: usize = 5;
    const TAIL: usize = 4;
    if cycle.len() <= HEAD + TAIL + 3 {
        return cycle.join(" -> ");
    }
    format!(
        "{} -> ... ({} more) -> {}",
        cycle[..HEAD].join(" -> "),
        cycle.len() - HEAD - TAIL,
        cycle[cycle.len() - TAIL..].join(" -> ")
    )
}

/// The edges of the services' start order, the other way round: for each
/// service, the services that need it (`after` or `requires`) and those
/// that require it. Built once per load, linear in the edges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    needed_by: HashMap<String, Vec<String>>,
    required_by: HashMap<String, Vec<String>>,
}

impl Graph {
    /// The graph of these services' `after` and `requires`.
    pub fn new<'a>(specs: impl IntoIterator<Item = &'a ServiceSpec>) -> Graph {
        let mut graph = Graph::default();
        for spec in specs {
            for needed in spec.needs() {
                graph
                    .needed_by
                    .entry(needed.to_owned())
                    .or_default()
                    .push(spec.name.clone());
            }
            for required in &spec.requires {
                graph
                    .required_by
                    .entry(required.clone())
                    .or_default()
                    .push(spec.name.clone());
            }
        }
        for list in graph
            .needed_by
            .values_mut()
            .chain(graph.required_by.values_mut())
        {
            list.sort();
            list.dedup();
        }
        graph
    }

    /// The services that wait for `name` to start (`after` or `requires`).
    pub fn needed_by(&self, name: &str) -> &[String] {
        self.needed_by.get(name).map_or(&[], Vec::as_slice)
    }

    /// The services that require `name` (stopped while it is down).
    pub fn required_by(&self, name: &str) -> &[String] {
        self.required_by.get(name).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn graph(edges: &[(&'static str, &[&'static str])]) -> Vec<(&'static str, Vec<&'static str>)> {
        edges.iter().map(|(n, e)| (*n, e.to_vec())).collect()
    }

    #[test]
    fn cycles_are_found_once_each() {
        assert!(cycles(&graph(&[("a", &["b"]), ("b", &["c"]), ("c", &[])])).is_empty());
        assert_eq!(
            cycles(&graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])])),
            [vec!["a", "b", "c", "a"]]
        );
        assert_eq!(cycles(&graph(&[("e", &["e"])])), [vec!["e", "e"]]);
        // A diamond is no cycle; a name that is no node is ignored.
        assert!(
            cycles(&graph(&[
                ("top", &["l", "r"]),
                ("l", &["base", "gone"]),
                ("r", &["base"]),
                ("base", &[])
            ]))
            .is_empty()
        );
        // Two separate cycles; one reached from a node outside it.
        assert_eq!(
            cycles(&graph(&[
                ("x", &["a"]),
                ("a", &["b"]),
                ("b", &["a"]),
                ("c", &["d"]),
                ("d", &["c"])
            ])),
            [vec!["a", "b", "a"], vec!["c", "d", "c"]]
        );
    }

    #[test]
    fn a_long_cycle_is_cut_in_its_description() {
        assert_eq!(describe(&["a", "b", "a"]), "a -> b -> a");
        let names: Vec<String> = (0..20).map(|i| format!("s{i}")).collect();
        let cycle: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            describe(&cycle),
            "s0 -> s1 -> s2 -> s3 -> s4 -> ... (11 more) -> s16 -> s17 -> s18 -> s19"
        );
    }

    proptest! {
        /// Edges only towards earlier nodes make no cycle; a chain through
        /// all of them closed by an edge back makes some, each a closed
        /// path.
        #[test]
        fn cycles_match_the_shape(n in 1usize..30, extra in prop::collection::vec((0usize..30, 0usize..30), 0..40)) {
            let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
            let mut nodes: Vec<(&str, Vec<&str>)> = names.iter().map(|s| (s.as_str(), Vec::new())).collect();
            for (a, b) in extra {
                let (a, b) = (a % n, b % n);
                if b < a {
                    nodes[a].1.push(names[b].as_str());
                }
            }
            prop_assert!(cycles(&nodes).is_empty());
            for i in 1..n {
                nodes[i].1.push(names[i - 1].as_str());
            }
            nodes[0].1.push(names[n - 1].as_str());
            let found = cycles(&nodes);
            prop_assert!(!found.is_empty());
            for cycle in found {
                prop_assert_eq!(cycle.first(), cycle.last());
            }
        }
    }
}
