//! Stripe's bracket form syntax (`a[b][c]=v`, `expand[]=x`, `metadata[k]=v`,
//! `enabled_events[]=a`, `enabled_events[0]=a`) parsed into `serde_json::Value`, and typed
//! accessors that answer with Stripe's parameter errors.

use serde_json::{Map, Value};

use crate::errors::{ApiError, ApiResult};

/// A malformed form key (`a[b`, `a]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A key whose brackets do not close.
    #[error("Invalid parameter name: {0}")]
    BadKey(String),
    /// One name used both as a value and as an object or array.
    #[error("Invalid array or hash for parameter: {0}")]
    Conflict(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Push,
    Index(usize),
}

fn split_key(key: &str) -> Result<(String, Vec<Seg>), FormError> {
    let bad = || FormError::BadKey(key.to_string());
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if head.is_empty() || head.contains(']') {
        return Err(bad());
    }
    let mut segs = Vec::new();
    while !rest.is_empty() {
        if !rest.starts_with('[') {
            return Err(bad());
        }
        let close = rest.find(']').ok_or_else(bad)?;
        let inner = &rest[1..close];
        if inner.contains('[') {
            return Err(bad());
        }
        segs.push(if inner.is_empty() {
            Seg::Push
        } else if let Ok(i) = inner.parse::<usize>() {
            if inner.len() > 1 && inner.starts_with('0') {
                Seg::Key(inner.to_string())
            } else {
                Seg::Index(i)
            }
        } else {
            Seg::Key(inner.to_string())
        });
        rest = &rest[close + 1..];
    }
    Ok((head.to_string(), segs))
}

fn insert(node: &mut Value, path: &[Seg], value: String, key: &str) -> Result<(), FormError> {
    let conflict = || FormError::Conflict(key.to_string());
    let Some((first, rest)) = path.split_first() else {
        *node = Value::String(value);
        return Ok(());
    };
    match first {
        Seg::Key(k) => {
            if node.is_null() {
                *node = Value::Object(Map::new());
            }
            let obj = node.as_object_mut().ok_or_else(conflict)?;
            insert(
                obj.entry(k.clone()).or_insert(Value::Null),
                rest,
                value,
                key,
            )
        }
        Seg::Push => {
            if node.is_null() {
                *node = Value::Array(Vec::new());
            }
            let arr = node.as_array_mut().ok_or_else(conflict)?;
            // `items[][price]=a&items[][qty]=1`: keep filling the last element until a key repeats.
            let reuse = match (rest.first(), arr.last()) {
                (Some(Seg::Key(k)), Some(Value::Object(last))) => !last.contains_key(k),
                _ => false,
            };
            if !reuse {
                arr.push(Value::Null);
            }
            let last = arr.last_mut().expect("just pushed");
            insert(last, rest, value, key)
        }
        Seg::Index(i) => {
            if node.is_null() {
                *node = Value::Array(Vec::new());
            }
            let arr = node.as_array_mut().ok_or_else(conflict)?;
            if *i > 10_000 {
                return Err(conflict());
            }
            while arr.len() <= *i {
                arr.push(Value::Null);
            }
            insert(&mut arr[*i], rest, value, key)
        }
    }
}

fn prune(v: &mut Value) {
    match v {
        Value::Array(a) => {
            a.retain(|x| !x.is_null());
            a.iter_mut().for_each(prune);
        }
        Value::Object(o) => o.values_mut().for_each(prune),
        _ => {}
    }
}

/// Parses a form body or query string into a JSON object of strings, arrays and objects.
pub fn parse(input: &[u8]) -> Result<Map<String, Value>, FormError> {
    let mut root = Value::Object(Map::new());
    for (k, v) in url::form_urlencoded::parse(input) {
        let (head, segs) = split_key(&k)?;
        let mut path = vec![Seg::Key(head)];
        path.extend(segs);
        insert(&mut root, &path, v.into_owned(), &k)?;
    }
    prune(&mut root);
    match root {
        Value::Object(m) => Ok(m),
        _ => unreachable!("root is an object"),
    }
}

/// A request's parameters with accessors that fail with Stripe's messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(pub Map<String, Value>);

impl Params {
    /// Wraps parsed parameters.
    pub fn new(map: Map<String, Value>) -> Self {
        Params(map)
    }

    /// The raw value of a top-level parameter.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// Whether a top-level parameter was sent.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Removes a parameter and returns it.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    /// A string parameter; an empty string reads as absent (Stripe's "unset").
    pub fn str(&self, name: &str) -> ApiResult<Option<&str>> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::validation(
                format!("Invalid string: {name} must be a string"),
                "parameter_invalid_string",
                name,
            )),
        }
    }

    /// A string parameter that must be present and non-empty.
    pub fn required_str(&self, name: &str) -> ApiResult<&str> {
        match self.0.get(name) {
            None => Err(missing(name)),
            Some(Value::String(s)) if s.is_empty() => Err(empty(name)),
            _ => Ok(self.str(name)?.unwrap_or_default()),
        }
    }

    /// An integer parameter.
    pub fn int(&self, name: &str) -> ApiResult<Option<i64>> {
        match self.str(name)? {
            None => Ok(None),
            Some(s) => s.trim().parse::<i64>().map(Some).map_err(|_| {
                ApiError::validation(
                    format!("Invalid integer: {s}"),
                    "parameter_invalid_integer",
                    name,
                )
            }),
        }
    }

    /// An integer parameter that must be present.
    pub fn required_int(&self, name: &str) -> ApiResult<i64> {
        match self.0.get(name) {
            None => Err(missing(name)),
            Some(Value::String(s)) if s.is_empty() => Err(empty(name)),
            _ => Ok(self.int(name)?.unwrap_or_default()),
        }
    }

    /// A boolean parameter (`true`/`false`).
    pub fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.str(name)? {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(s) => Err(ApiError::validation(
                format!("Invalid boolean: {s}"),
                "parameter_invalid_boolean",
                name,
            )),
        }
    }

    /// An object parameter (`billing_details[...]`).
    pub fn object(&self, name: &str) -> ApiResult<Option<&Map<String, Value>>> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(ApiError::validation(
                format!("Invalid object: {name} must be a hash"),
                "parameter_invalid_object",
                name,
            )),
        }
    }

    /// A list of strings (`enabled_events[]=a` or `enabled_events[0]=a`).
    pub fn string_list(&self, name: &str) -> ApiResult<Option<Vec<String>>> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(Some(Vec::new())),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        ApiError::validation(
                            format!("Invalid array: {name} must be an array of strings"),
                            "parameter_invalid_array",
                            name,
                        )
                    })
                })
                .collect::<ApiResult<Vec<_>>>()
                .map(Some),
            Some(_) => Err(ApiError::validation(
                format!("Invalid array: {name} must be an array"),
                "parameter_invalid_array",
                name,
            )),
        }
    }

    /// `metadata[...]`: string values only; an empty string removes the key on update.
    pub fn metadata(&self) -> ApiResult<Option<Map<String, Value>>> {
        match self.0.get("metadata") {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(Some(Map::new())),
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    if !v.is_string() {
                        return Err(ApiError::validation(
                            format!("Invalid value for metadata[{k}]: must be a string"),
                            "parameter_invalid_string",
                            &format!("metadata[{k}]"),
                        ));
                    }
                }
                Ok(Some(m.clone()))
            }
            Some(_) => Err(ApiError::validation(
                "Invalid object: metadata must be a hash",
                "parameter_invalid_object",
                "metadata",
            )),
        }
    }

    /// The `expand[]` paths.
    pub fn expand(&self) -> Vec<String> {
        match self.0.get("expand") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// Refuses any top-level parameter not in `allowed` (`expand` is always allowed), as Stripe
    /// does with "Received unknown parameter: foo".
    pub fn allow(&self, allowed: &[&str]) -> ApiResult<()> {
        for k in self.0.keys() {
            if k != "expand" && !allowed.contains(&k.as_str()) {
                return Err(ApiError::validation(
                    format!("Received unknown parameter: {k}"),
                    "parameter_unknown",
                    k,
                ));
            }
        }
        Ok(())
    }
}

/// The fields Stripe.js adds to what it sends (the request, and the `payment_method_data` of a
/// confirmation) for its own bookkeeping; they are not part of the request's meaning.
pub const STRIPE_JS_FIELDS: &[&str] = &[
    "payment_user_agent",
    "time_on_page",
    "guid",
    "muid",
    "sid",
    "referrer",
];

/// Stripe's "Missing required param" error.
pub fn missing(name: &str) -> ApiError {
    ApiError::validation(
        format!("Missing required param: {name}."),
        "parameter_missing",
        name,
    )
}

fn empty(name: &str) -> ApiError {
    ApiError::validation(
        format!(
            "You passed an empty string for '{name}'. We assume empty values are an attempt to \
             unset a parameter; however '{name}' cannot be unset. You should remove '{name}' from \
             your request or supply a non-empty value."
        ),
        "parameter_invalid_empty",
        name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Value {
        Value::Object(parse(s.as_bytes()).unwrap())
    }

    #[test]
    fn nested_objects() {
        assert_eq!(
            p("card[number]=4242&card[exp_month]=12&billing_details[address][city]=Paris"),
            json!({"card": {"number": "4242", "exp_month": "12"},
                   "billing_details": {"address": {"city": "Paris"}}})
        );
    }

    #[test]
    fn arrays_push_and_indexed() {
        assert_eq!(p("expand[]=a&expand[]=b"), json!({"expand": ["a", "b"]}));
        assert_eq!(
            p("enabled_events[1]=b&enabled_events[0]=a"),
            json!({"enabled_events": ["a", "b"]})
        );
        assert_eq!(
            p("items[][price]=p1&items[][qty]=1&items[][price]=p2"),
            json!({"items": [{"price": "p1", "qty": "1"}, {"price": "p2"}]})
        );
    }

    #[test]
    fn percent_decoding_and_empty_values() {
        assert_eq!(
            p("metadata[order%20id]=a%26b&description="),
            json!({"metadata": {"order id": "a&b"}, "description": ""})
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(parse(b"a[b=1").is_err());
        assert!(parse(b"a=1&a[b]=2").is_err());
        assert!(parse(b"[x]=1").is_err());
    }

    #[test]
    fn typed_accessors_use_stripe_wording() {
        let params = Params::new(parse(b"amount=abc&flag=maybe&x=1").unwrap());
        let e = params.int("amount").unwrap_err();
        assert_eq!(e.message, "Invalid integer: abc");
        assert!(!e.saved);
        assert_eq!(
            params.bool("flag").unwrap_err().code_str(),
            Some("parameter_invalid_boolean")
        );
        assert_eq!(
            params.required_str("currency").unwrap_err().message,
            "Missing required param: currency."
        );
        assert_eq!(
            params.allow(&["amount", "flag"]).unwrap_err().message,
            "Received unknown parameter: x"
        );
    }
}
