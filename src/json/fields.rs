//! Which members of an object a reader keeps.
//!
//! A record is read once for every rule: [`Fields`] is the union of the
//! paths they look at, as a tree of keys. The reader validates the whole
//! text and keeps only the members on those paths (a path's last value
//! whole, with everything below it), so lookups walk a few members instead
//! of every member of the record.

use super::value::{short_eq, unescape};

/// The mode a value is read in: keep it whole, drop it (validate only), or
/// keep only the members a [`Fields`] node names.
pub(super) type Mode = u32;
/// Keep the value and everything below it.
pub(super) const WHOLE: Mode = u32::MAX;
/// Validate the value and keep nothing of it.
pub(super) const DROP: Mode = u32::MAX - 1;

/// A tree of member keys to keep (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fields {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Node {
    /// Keep the value whole.
    whole: bool,
    /// The members kept, with their nodes.
    keys: Vec<(Box<str>, u32)>,
    /// For each [`bucket`], the keys in it (indexes into `keys`): a member
    /// is compared with one or two keys, and most with none.
    buckets: Vec<Vec<u32>>,
}

const BUCKETS: usize = 64;

/// A key's bucket, from its length and its first and last bytes.
#[inline]
fn bucket(key: &[u8]) -> usize {
    let (first, last) = (key.first().copied().unwrap_or(0), key.last().copied().unwrap_or(0));
    (key.len() + first as usize * 7 + last as usize * 13) % BUCKETS
}

impl Default for Fields {
    fn default() -> Fields {
        Fields::none()
    }
}

impl Fields {
    /// Keep nothing but the root object itself.
    pub fn none() -> Fields {
        Fields { nodes: vec![Node::default()] }
    }

    /// Keep everything.
    pub fn all() -> Fields {
        Fields { nodes: vec![Node { whole: true, ..Node::default() }] }
    }

    /// Keep the value at `keys` (member names from the root) whole. An
    /// empty path keeps everything.
    pub fn add<'k>(&mut self, keys: impl IntoIterator<Item = &'k str>) {
        let mut at = 0usize;
        for key in keys {
            if self.nodes[at].whole {
                return;
            }
            let found = self.nodes[at].keys.iter().find(|(k, _)| &**k == key).map(|(_, c)| *c as usize);
            at = match found {
                Some(c) => c,
                None => {
                    let c = self.nodes.len();
                    self.nodes.push(Node::default());
                    let n = &mut self.nodes[at];
                    n.buckets.resize(BUCKETS, Vec::new());
                    let index = n.keys.len() as u32;
                    n.buckets[bucket(key.as_bytes())].push(index);
                    n.keys.push((key.into(), c as u32));
                    c
                }
            };
        }
        let n = &mut self.nodes[at];
        n.whole = true;
        n.keys.clear();
        n.buckets.clear();
    }

    /// Keep what `other` keeps too.
    pub fn extend(&mut self, other: &Fields) {
        let mut path = Vec::new();
        other.each_whole(0, &mut path, &mut |keys| self.add(keys.iter().copied()));
    }

    fn each_whole<'a>(&'a self, at: usize, path: &mut Vec<&'a str>, f: &mut dyn FnMut(&[&'a str])) {
        let n = &self.nodes[at];
        if n.whole {
            return f(path);
        }
        for (k, c) in &n.keys {
            path.push(k);
            self.each_whole(*c as usize, path, f);
            path.pop();
        }
    }

    /// Whether everything is kept.
    pub fn is_all(&self) -> bool {
        self.nodes[0].whole
    }

    /// The mode of the root object.
    pub(super) fn root(&self) -> Mode {
        self.mode(0)
    }

    fn mode(&self, node: u32) -> Mode {
        if self.nodes[node as usize].whole {
            WHOLE
        } else {
            node
        }
    }

    /// The mode of the member `raw` (a key's text between its quotes,
    /// with escapes when `escaped`) of an object read in mode `node`.
    #[inline]
    pub(super) fn member(&self, node: Mode, raw: &str, escaped: bool) -> Mode {
        let n = &self.nodes[node as usize];
        if escaped {
            let key = unescape(raw);
            return n.keys.iter().find(|(k, _)| **k == *key).map_or(DROP, |(_, c)| self.mode(*c));
        }
        let raw = raw.as_bytes();
        let Some(candidates) = n.buckets.get(bucket(raw)) else {
            return DROP;
        };
        for &k in candidates {
            let (key, c) = &n.keys[k as usize];
            if key.len() == raw.len() && short_eq(key.as_bytes(), raw) {
                return self.mode(*c);
            }
        }
        DROP
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_share_their_prefixes_and_a_whole_value_ends_a_path() {
        let mut f = Fields::none();
        f.add(["userIdentity", "arn"]);
        f.add(["userIdentity", "type"]);
        f.add(["errorCode"]);
        let ui = f.member(f.root(), "userIdentity", false);
        assert!(ui != WHOLE && ui != DROP);
        assert_eq!(f.member(ui, "arn", false), WHOLE);
        assert_eq!(f.member(ui, "accountId", false), DROP);
        assert_eq!(f.member(f.root(), "errorCode", false), WHOLE);
        assert_eq!(f.member(f.root(), "errorCod\\u0065", true), WHOLE);
        assert_eq!(f.member(f.root(), "eventName", false), DROP);
        // A whole value swallows the longer paths below it.
        f.add(["userIdentity"]);
        assert_eq!(f.member(f.root(), "userIdentity", false), WHOLE);
        f.add(["userIdentity", "sessionContext"]);
        assert_eq!(f.member(f.root(), "userIdentity", false), WHOLE);
        let mut g = Fields::none();
        g.extend(&f);
        assert_eq!(g.member(g.root(), "userIdentity", false), WHOLE);
        assert_eq!(g.member(g.root(), "errorCode", false), WHOLE);
        g.add([]);
        assert!(g.is_all());
    }

    #[test]
    fn long_keys_and_keys_of_one_bucket_are_told_apart() {
        let long = "k".repeat(80);
        let mut f = Fields::none();
        f.add([long.as_str()]);
        assert_eq!(f.member(f.root(), &long, false), WHOLE);
        assert_eq!(f.member(f.root(), &"k".repeat(70), false), DROP);
        // Every two-letter key from "aa" to "zz": many share a bucket.
        let keys: Vec<String> =
            (b'a'..=b'z').flat_map(|x| (b'a'..=b'j').map(move |y| format!("{}{}", x as char, y as char))).collect();
        let mut f = Fields::none();
        for k in keys.iter().step_by(2) {
            f.add([k.as_str()]);
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(f.member(f.root(), k, false) == WHOLE, i % 2 == 0, "{k}");
        }
    }
}
