//! One collection of Stripe objects (PaymentIntents, charges, events, ...) with the indexes that
//! keep every request's cost independent of how many objects the sandbox holds: by id, by
//! creation order (lists, and trimming the oldest), by one grouping field (a charge's
//! PaymentIntent, a PaymentMethod's customer), and by due time (authorisations that expire).
//! Also Stripe's list answer, paged from those indexes, rendering only the page, and the
//! `record!` macro that tells a table about an object type.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use serde_json::{json, Value};

use crate::errors::{ApiError, ApiResult};
use crate::form::Params;

/// Where an object sorts: `(created, seq)`, oldest first (Stripe lists newest first).
pub type OrderKey = (i64, u64);

/// What a [`Table`] needs to know about the objects it holds.
pub trait Record {
    /// `pi_...`.
    fn id(&self) -> &str;
    /// Creation time and sequence number.
    fn order(&self) -> OrderKey;
    /// The grouping field this table is indexed by, when set (`None` by default).
    fn group(&self) -> Option<&str> {
        None
    }
    /// Sandbox time at which something must happen to the object (`None` by default).
    fn due(&self) -> Option<i64> {
        None
    }
}

/// Implements [`Record`] for an object type with `id`, `created` and `seq` fields (every stored
/// Stripe object has them): `record!(Customer)`. `group:` and `due:` add those methods, each
/// written as `|object| value`: `record!(Refund, group: |r| Some(&r.charge))`.
macro_rules! record {
    ($t:ty $(, group: |$g:ident| $group:expr)? $(, due: |$d:ident| $due:expr)? $(,)?) => {
        impl $crate::table::Record for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn order(&self) -> $crate::table::OrderKey {
                (self.created, self.seq)
            }
            $(fn group(&self) -> Option<&str> {
                let $g = self;
                $group
            })?
            $(fn due(&self) -> Option<i64> {
                let $d = self;
                $due
            })?
        }
    };
}
pub(crate) use record;

/// Objects by id, with their creation order, group and due-time indexes kept in step on every
/// insert and remove.
#[derive(Debug)]
pub struct Table<T> {
    // Boxed: a map stores its values inline and keeps up to half its slots free after growing,
    // and these objects are hundreds of bytes each.
    rows: HashMap<String, Box<T>>,
    order: BTreeMap<OrderKey, String>,
    groups: HashMap<String, BTreeSet<OrderKey>>,
    due: BTreeSet<(i64, String)>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: HashMap::new(),
            order: BTreeMap::new(),
            groups: HashMap::new(),
            due: BTreeSet::new(),
        }
    }
}

impl<T: Record> Table<T> {
    /// The object `id`.
    pub fn get(&self, id: &str) -> Option<&T> {
        self.rows.get(id).map(|b| &**b)
    }

    /// The object `id`, to change in place. The caller must not change what the indexes use
    /// (id, `created`, `seq`, group, due time): [`Table::insert`] a changed copy for that.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.rows.get_mut(id).map(|b| &mut **b)
    }

    /// Whether `id` is held.
    pub fn contains(&self, id: &str) -> bool {
        self.rows.contains_key(id)
    }

    /// How many objects are held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every object, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.rows.values().map(|b| &**b)
    }

    /// Adds or replaces the object `id`, re-indexing it; returns the previous version.
    pub fn insert(&mut self, id: String, value: T) -> Option<T> {
        let old = self.rows.remove(&id);
        if let Some(o) = &old {
            self.unindex(o);
        }
        self.index(&value);
        self.rows.insert(id, Box::new(value));
        old.map(|b| *b)
    }

    /// Removes the object `id`.
    pub fn remove(&mut self, id: &str) -> Option<T> {
        let old = self.rows.remove(id)?;
        self.unindex(&old);
        Some(*old)
    }

    fn index(&mut self, v: &T) {
        self.order.insert(v.order(), v.id().to_string());
        if let Some(g) = v.group() {
            self.groups
                .entry(g.to_string())
                .or_default()
                .insert(v.order());
        }
        if let Some(t) = v.due() {
            self.due.insert((t, v.id().to_string()));
        }
    }

    fn unindex(&mut self, v: &T) {
        self.order.remove(&v.order());
        if let Some(g) = v.group() {
            if let Some(set) = self.groups.get_mut(g) {
                set.remove(&v.order());
                if set.is_empty() {
                    self.groups.remove(g);
                }
            }
        }
        if let Some(t) = v.due() {
            self.due.remove(&(t, v.id().to_string()));
        }
    }

    /// The ids of the objects due at or before `now`, earliest first.
    pub fn due_by(&self, now: i64) -> Vec<String> {
        self.due
            .range(..(now.saturating_add(1), String::new()))
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// The oldest object.
    pub fn oldest(&self) -> Option<&T> {
        self.order.values().next().and_then(|id| self.get(id))
    }

    /// The objects of `group`, newest first.
    pub fn in_group<'a>(&'a self, group: &str) -> impl Iterator<Item = &'a T> + 'a {
        self.groups
            .get(group)
            .into_iter()
            .flat_map(|set| set.iter().rev())
            .filter_map(|k| self.at(k))
    }

    /// Keys in `(from, to)`, ascending or descending, over the whole table or one group.
    fn keys<'a>(
        &'a self,
        group: Option<&str>,
        from: Bound<OrderKey>,
        to: Bound<OrderKey>,
        newest_first: bool,
    ) -> Box<dyn Iterator<Item = OrderKey> + 'a> {
        match group {
            None => {
                let r = self.order.range((from, to)).map(|(k, _)| *k);
                if newest_first {
                    Box::new(r.rev())
                } else {
                    Box::new(r)
                }
            }
            Some(g) => match self.groups.get(g) {
                None => Box::new(std::iter::empty()),
                Some(set) => {
                    let r = set.range((from, to)).copied();
                    if newest_first {
                        Box::new(r.rev())
                    } else {
                        Box::new(r)
                    }
                }
            },
        }
    }

    fn at(&self, key: &OrderKey) -> Option<&T> {
        self.order.get(key).and_then(|id| self.get(id))
    }
}

/// Which objects a list answer covers: the caller's account, optionally one group of the
/// table's index, and whatever else `keep` checks.
pub struct Query<'a, T> {
    /// Only objects of this group (through the table's group index).
    pub group: Option<&'a str>,
    /// The rest of the filter (the account included).
    pub keep: &'a dyn Fn(&T) -> bool,
    /// Renders one object of the page.
    pub render: &'a dyn Fn(&T) -> Value,
}

/// Stripe's list answer (`{object: "list", data, has_more, url}`), newest first, with `limit`,
/// `starting_after` and `ending_before`. It walks the table's order (or group) index from the
/// cursor and stops after `limit + 1` matches, rendering only the page.
pub fn list<T: Record>(
    table: &Table<T>,
    q: Query<'_, T>,
    params: &Params,
    url: &str,
) -> ApiResult<Value> {
    let limit = params.int("limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation(
            if limit < 1 {
                "This value must be greater than or equal to 1."
            } else {
                "This value must be less than or equal to 100."
            },
            "parameter_invalid_integer",
            "limit",
        ));
    }
    let limit = limit as usize;
    let matches = |t: &&T| (q.keep)(t) && q.group.is_none_or(|g| t.group() == Some(g));
    let cursor = |param: &str, id: &str| {
        table
            .get(id)
            .filter(matches)
            .map(Record::order)
            .ok_or_else(|| ApiError::missing("object", id, Some(param)))
    };
    let unbounded = Bound::Unbounded;
    let (page, has_more): (Vec<&T>, bool) = if let Some(after) = params.str("starting_after")? {
        let k = cursor("starting_after", after)?;
        take(
            table,
            q.group,
            unbounded,
            Bound::Excluded(k),
            true,
            limit,
            &matches,
        )
    } else if let Some(before) = params.str("ending_before")? {
        // The `limit` objects just newer than the cursor, shown newest first.
        let k = cursor("ending_before", before)?;
        let (mut v, more) = take(
            table,
            q.group,
            Bound::Excluded(k),
            unbounded,
            false,
            limit,
            &matches,
        );
        v.reverse();
        (v, more)
    } else {
        take(table, q.group, unbounded, unbounded, true, limit, &matches)
    };
    Ok(json!({
        "object": "list",
        "data": page.into_iter().map(q.render).collect::<Vec<_>>(),
        "has_more": has_more,
        "url": url,
    }))
}

fn take<'a, T: Record>(
    table: &'a Table<T>,
    group: Option<&str>,
    from: Bound<OrderKey>,
    to: Bound<OrderKey>,
    newest_first: bool,
    limit: usize,
    matches: &dyn Fn(&&T) -> bool,
) -> (Vec<&'a T>, bool) {
    let mut v: Vec<&T> = table
        .keys(group, from, to, newest_first)
        .filter_map(|k| table.at(&k))
        .filter(|t| matches(t))
        .take(limit + 1)
        .collect();
    let more = v.len() > limit;
    v.truncate(limit);
    (v, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone)]
    struct Obj {
        id: String,
        created: i64,
        seq: u64,
        group: Option<String>,
        due: Option<i64>,
    }

    impl Record for Obj {
        fn id(&self) -> &str {
            &self.id
        }
        fn order(&self) -> OrderKey {
            (self.created, self.seq)
        }
        fn group(&self) -> Option<&str> {
            self.group.as_deref()
        }
        fn due(&self) -> Option<i64> {
            self.due
        }
    }

    fn obj(n: u64, group: Option<&str>, due: Option<i64>) -> Obj {
        Obj {
            id: format!("o_{n}"),
            created: 100 + n as i64 / 2,
            seq: n,
            group: group.map(String::from),
            due,
        }
    }

    fn ids(v: &Value) -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
        )
    }

    fn page(t: &Table<Obj>, group: Option<&str>, p: &[(&str, &str)]) -> Value {
        let render = |o: &Obj| json!(o.id);
        let keep = |o: &Obj| o.seq != 5;
        list(
            t,
            Query {
                group,
                keep: &keep,
                render: &render,
            },
            &params(p),
            "/v1/x",
        )
        .unwrap()
    }

    #[test]
    fn pages_newest_first_from_either_cursor() {
        let mut t = Table::default();
        for n in 1..=9 {
            t.insert(format!("o_{n}"), obj(n, None, None));
        }
        // o_5 is filtered out everywhere.
        let first = page(&t, None, &[("limit", "3")]);
        assert_eq!(ids(&first), ["o_9", "o_8", "o_7"]);
        assert_eq!(first["has_more"], true);
        let next = page(&t, None, &[("limit", "3"), ("starting_after", "o_7")]);
        assert_eq!(ids(&next), ["o_6", "o_4", "o_3"]);
        let last = page(&t, None, &[("limit", "3"), ("starting_after", "o_3")]);
        assert_eq!(
            (ids(&last), last["has_more"].clone()),
            (vec!["o_2".to_string(), "o_1".into()], json!(false))
        );
        let back = page(&t, None, &[("limit", "2"), ("ending_before", "o_3")]);
        assert_eq!(ids(&back), ["o_6", "o_4"]);
        assert_eq!(back["has_more"], true);
        let top = page(&t, None, &[("limit", "5"), ("ending_before", "o_7")]);
        assert_eq!(
            (ids(&top), top["has_more"].clone()),
            (vec!["o_9".to_string(), "o_8".into()], json!(false))
        );
        // A cursor the filter excludes is unknown, as Stripe answers for another account's id.
        let render = |o: &Obj| json!(o.id);
        let keep = |o: &Obj| o.seq != 5;
        let e = list(
            &t,
            Query {
                group: None,
                keep: &keep,
                render: &render,
            },
            &params(&[("starting_after", "o_5")]),
            "/v1/x",
        )
        .unwrap_err();
        assert_eq!(e.status.as_u16(), 404);
    }

    #[test]
    fn groups_and_due_times_follow_updates() {
        let mut t = Table::default();
        t.insert("o_1".into(), obj(1, Some("a"), Some(50)));
        t.insert("o_2".into(), obj(2, Some("b"), Some(40)));
        t.insert("o_3".into(), obj(3, Some("a"), None));
        assert_eq!(ids(&page(&t, Some("a"), &[])), ["o_3", "o_1"]);
        assert_eq!(t.due_by(45), ["o_2"]);
        assert_eq!(t.due_by(50), ["o_2", "o_1"]);
        // Moving o_1 to group b and clearing its due time re-indexes it.
        t.insert("o_1".into(), obj(1, Some("b"), None));
        assert_eq!(ids(&page(&t, Some("a"), &[])), ["o_3"]);
        assert_eq!(ids(&page(&t, Some("b"), &[])), ["o_2", "o_1"]);
        assert_eq!(t.due_by(1_000), ["o_2"]);
        t.remove("o_2");
        assert_eq!(ids(&page(&t, Some("b"), &[])), ["o_1"]);
        assert!(t.due_by(1_000).is_empty());
        assert_eq!(t.oldest().map(|o| o.id.as_str()), Some("o_1"));
        assert_eq!(
            t.in_group("a").map(|o| o.id.clone()).collect::<Vec<_>>(),
            ["o_3"]
        );
    }
}
